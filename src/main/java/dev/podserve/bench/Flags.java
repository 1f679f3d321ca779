package dev.podserve.bench;

import java.util.function.BiConsumer;

/** The bench tools' command lines: {@code --flag value} pairs; {@code --help} or {@code -h} asks for the usage. */
final class Flags {

    private Flags() {
    }

    /**
     * Hands each flag and its value to {@code each}, in order.
     *
     * @throws IllegalArgumentException with the usage text, on --help or a flag without a value
     */
    static void parse(String[] args, String usage, BiConsumer<String, String> each) {
        for (int i = 0; i < args.length; i++) {
            String flag = args[i];
            if (flag.equals("--help") || flag.equals("-h")) throw new IllegalArgumentException(usage);
            if (i + 1 >= args.length) throw new IllegalArgumentException(flag + " needs a value\n" + usage);
            each.accept(flag, args[++i]);
        }
    }
}
