package dev.podserve.tokenizer;

/**
 * A chat template could not be rendered for these messages: the template raised an exception on
 * purpose (an unsupported role, a bad turn order) or failed on what it was given. The messages
 * come from the client, so this is the client's error (HTTP 400), never the server's.
 */
public class ChatTemplateException extends RuntimeException {

    public ChatTemplateException(String message) {
        super(message);
    }

    public ChatTemplateException(String message, Throwable cause) {
        super(message, cause);
    }
}
