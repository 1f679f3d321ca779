/**
 * Structured outputs: a request's {@code response_format} (a JSON object, a JSON Schema), a fixed
 * list of choices, or the tool calls inside a free answer, turned into the set of tokens allowed
 * at each step of its generation.
 *
 * <p>The pieces, in the order a request meets them:
 * <ul>
 *   <li>{@link dev.podserve.structured.SchemaCompiler} turns a JSON Schema into a tree of
 *       {@link dev.podserve.structured.Shape}s, refusing keywords it cannot enforce;</li>
 *   <li>{@link dev.podserve.structured.OutputGrammar} is that tree with its starting point, shared
 *       by every choice of a request;</li>
 *   <li>{@link dev.podserve.structured.Frame}s recognise the output byte by byte, as a stack of
 *       continuations kept immutable so that one state can branch into many cheaply;</li>
 *   <li>{@link dev.podserve.structured.VocabularyTrie} holds every token's bytes in a prefix tree,
 *       so that the allowed tokens are found by one walk that drops a whole subtree at the first
 *       byte the state refuses;</li>
 *   <li>{@link dev.podserve.structured.GrammarMatcher} is one choice's state, the sampler's
 *       {@link dev.podserve.sampling.TokenConstraint};</li>
 *   <li>for {@code tool_choice: "auto"}, a {@code TriggeredMatcher} leaves the answer free and runs
 *       a {@code GrammarMatcher} over each call, from the opener that {@link
 *       dev.podserve.structured.ValueTriggers} name until the call's JSON closes.</li>
 * </ul>
 *
 * <p>Everything here works on bytes, not characters: tokens of byte-level vocabularies split UTF-8
 * characters, and a state must be able to stop in the middle of one.
 */
package dev.podserve.structured;
