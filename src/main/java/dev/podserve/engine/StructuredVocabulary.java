package dev.podserve.engine;

import dev.podserve.structured.VocabularyTrie;
import dev.podserve.tokenizer.HfTokenizer;

/** The model's tokens as a {@link VocabularyTrie}: what a structured output may be spelled with. */
final class StructuredVocabulary {

    private StructuredVocabulary() {
    }

    /**
     * Special tokens (BOS, chat markers, the end) and ids past the tokenizer's vocabulary (padding
     * rows of the LM head) can spell no part of a format; the end is allowed on its own terms.
     *
     * @param vocabSize the logits' length, which may exceed the tokenizer's vocabulary
     */
    static VocabularyTrie of(HfTokenizer tokenizer, int vocabSize) {
        byte[][] bytes = new byte[vocabSize][];
        int n = Math.min(vocabSize, tokenizer.vocabSize());
        for (int id = 0; id < n; id++) {
            if (!tokenizer.isSpecial(id)) bytes[id] = tokenizer.tokenBytes(id);
        }
        return new VocabularyTrie(bytes);
    }
}
