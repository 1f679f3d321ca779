// The official OpenAI Node.js SDK against a running podserve: what a JavaScript client does with the
// server, through the SDK's own request building, SSE parsing and error classes.
// usage: node client-checks.mjs BASE_URL MODEL
// Prints one JSON line {"checks": n, "failures": [...]} and exits 1 when any check failed.
import OpenAI from 'openai';

const [baseURL, model] = process.argv.slice(2);
if (!baseURL || !model) {
    console.error('usage: node client-checks.mjs BASE_URL MODEL');
    process.exit(2);
}
// No retries: a server mistake must show as the first failure, not be hidden by a second try.
const client = new OpenAI({ baseURL, apiKey: 'sk-node-checks', maxRetries: 0, timeout: 60_000 });

let checks = 0;
const failures = [];
function check(ok, what) {
    checks++;
    if (!ok) failures.push(what);
}

async function expectError(what, errorClass, status, param, call) {
    try {
        await call();
        check(false, `${what}: accepted`);
    } catch (e) {
        check(e instanceof errorClass && e.status === status && (param === undefined || e.param === param),
            `${what}: got ${e?.constructor?.name} status ${e?.status} param ${e?.param}: ${e?.message}`);
    }
}

// Greedy with ignore_eos: every length is fixed, so streamed and whole answers must agree exactly.
const MAX_TOKENS = 24;
const greedy = {
    model, max_tokens: MAX_TOKENS, temperature: 0, ignore_eos: true,
    messages: [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'Write a haiku about paged attention.' }],
};

// Models: the async iterator over the page.
const ids = [];
for await (const m of client.models.list()) ids.push(m.id);
check(ids.includes(model), `models.list: ${JSON.stringify(ids)} lacks ${model}`);
const one = await client.models.retrieve(model);
check(one.id === model && one.object === 'model', `models.retrieve: ${JSON.stringify(one)}`);

// Chat, whole.
const whole = await client.chat.completions.create(greedy);
const text = whole.choices[0]?.message?.content;
check(typeof text === 'string' && text.length > 0, `chat: content ${JSON.stringify(text)}`);
check(whole.choices[0]?.finish_reason === 'length', `chat: finish_reason ${whole.choices[0]?.finish_reason}`);
check(whole.usage?.completion_tokens === MAX_TOKENS, `chat: usage ${JSON.stringify(whole.usage)}`);

// Chat, streamed with usage: one role delta, the same text, the usage on a last chunk without choices.
const stream = await client.chat.completions.create({ ...greedy, stream: true, stream_options: { include_usage: true } });
let streamed = '';
let roles = 0;
let finish = null;
let usage = null;
let usageChunkChoices = -1;
for await (const chunk of stream) {
    if (chunk.usage) {
        usage = chunk.usage;
        usageChunkChoices = chunk.choices.length;
    }
    for (const c of chunk.choices) {
        if (c.delta?.role) roles++;
        streamed += c.delta?.content ?? '';
        if (c.finish_reason) finish = c.finish_reason;
    }
}
check(streamed === text, `chat stream: ${JSON.stringify(streamed)} != ${JSON.stringify(text)}`);
check(roles === 1, `chat stream: ${roles} role deltas`);
check(finish === 'length', `chat stream: finish_reason ${finish}`);
check(usage?.completion_tokens === MAX_TOKENS && usage?.prompt_tokens === whole.usage?.prompt_tokens && usageChunkChoices === 0,
    `chat stream: usage ${JSON.stringify(usage)} on a chunk with ${usageChunkChoices} choices`);

// The SDK's stream helper, which assembles the chunks into a completion itself.
const assembled = await client.chat.completions.stream(greedy).finalChatCompletion();
check(assembled.choices[0]?.message?.content === text, `chat stream helper: ${JSON.stringify(assembled.choices[0]?.message)}`);

// Text completions: two greedy choices agree, and a streamed one gives the same text.
const completion = { model, prompt: 'Once upon a time', max_tokens: 12, temperature: 0, ignore_eos: true };
const two = await client.completions.create({ ...completion, n: 2 });
check(two.choices.length === 2 && two.choices[0].text === two.choices[1].text && two.choices.map(c => c.index).join() === '0,1',
    `completions n=2: ${JSON.stringify(two.choices)}`);
let streamedText = '';
for await (const chunk of await client.completions.create({ ...completion, stream: true })) {
    streamedText += chunk.choices[0]?.text ?? '';
}
check(streamedText === two.choices[0].text, `completions stream: ${JSON.stringify(streamedText)} != ${JSON.stringify(two.choices[0].text)}`);

// Logprobs as the SDK types them.
const withLogprobs = await client.chat.completions.create({ ...greedy, max_tokens: 4, logprobs: true, top_logprobs: 2 });
const entries = withLogprobs.choices[0]?.logprobs?.content ?? [];
check(entries.length === 4 && entries.every(e => e.logprob <= 0 && e.top_logprobs.length === 2 && Array.isArray(e.bytes)),
    `chat logprobs: ${JSON.stringify(entries).slice(0, 300)}`);

// Scoring a prompt: echo with logprobs and max_tokens 0 gives the prompt back, every token scored but the first.
const scored = await client.completions.create({ model, prompt: 'Once upon a time', max_tokens: 0, echo: true, logprobs: 1 });
const scoredLp = scored.choices[0]?.logprobs;
const promptTokens = scored.usage?.prompt_tokens;
check(scored.choices[0]?.text === 'Once upon a time' && scoredLp?.tokens?.length === promptTokens
    && scoredLp.token_logprobs[0] === null && scoredLp.top_logprobs[0] === null
    && scoredLp.token_logprobs.slice(1).every(v => v <= 0) && scored.usage?.completion_tokens === 0,
    `echo with logprobs: ${JSON.stringify(scored).slice(0, 300)}`);

// Errors come as the SDK's classes, with the offending field.
await expectError('temperature 5', OpenAI.BadRequestError, 400, 'temperature',
    () => client.chat.completions.create({ ...greedy, temperature: 5 }));
await expectError('no messages', OpenAI.BadRequestError, 400, undefined,
    () => client.chat.completions.create({ ...greedy, messages: [] }));
await expectError('unknown model', OpenAI.NotFoundError, 404, undefined,
    () => client.chat.completions.create({ ...greedy, model: 'no-such-model' }));

// A client that walks away mid-stream: the SDK aborts the request; the server must go on serving.
const long = await client.chat.completions.create({ ...greedy, max_tokens: 2000, stream: true });
let seen = 0;
try {
    for await (const chunk of long) {
        if (++seen === 3) long.controller.abort();
    }
} catch (e) {
    check(e instanceof OpenAI.APIUserAbortError, `abort: ${e?.constructor?.name}: ${e?.message}`);
}
check(seen >= 3, `abort: only ${seen} chunks before the end`);
const after = await client.chat.completions.create(greedy);
check(after.choices[0]?.message?.content === text, 'after an aborted stream: another answer');

console.log(JSON.stringify({ checks, failures }));
process.exit(failures.length === 0 ? 0 : 1);
