package dev.podserve.metrics;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.autoconfigure.condition.ConditionalOnExpression;
import org.springframework.stereotype.Component;

import dev.podserve.attention.AttentionMode;
import dev.podserve.attention.HybridBatch;
import dev.podserve.attention.StepAttention;
import dev.podserve.config.PodserveProperties;
import dev.podserve.engine.EngineListener;
import dev.podserve.scheduler.SchedulerOutput;

/**
 * {@code podserve.scheduler.step-trace}: one CSV line per engine step, for finding what makes a
 * latency tail. Request-level percentiles say how long users waited between tokens, not which
 * steps made them wait; this says, step by step, what ran (prefill chunks and their longest
 * context, decodes and their summed context, the attention the step chose), how long the forward
 * pass took, and how long the host spent between the previous step's end and this one's start
 * (emitting tokens, admitting requests, scheduling). Every decode in a step waits for that step's
 * forward pass plus the gap before it, so an inter-token gap of a request is the sum of those two
 * over the steps it sat in.
 *
 * <p>Columns: {@code step, start_ms} (since the trace opened), {@code host_gap_ms, forward_ms,
 * prefills, prefill_tokens, prefill_max_kv, decodes, decode_kv, attention} (mode/policy as the
 * metrics label them; {@code backend} where no choice travelled with the batch). The writer is
 * buffered and flushed every {@link #FLUSH_EVERY} steps and at shutdown, so the engine thread only
 * ever copies a short line into memory.
 */
@Component
@ConditionalOnExpression("!'${podserve.scheduler.step-trace:}'.isBlank()")
public class StepTrace implements EngineListener, DisposableBean {

    static final String HEADER = "step,start_ms,host_gap_ms,forward_ms,prefills,prefill_tokens,prefill_max_kv,decodes,decode_kv,attention";
    static final int FLUSH_EVERY = 256;

    private final BufferedWriter out;
    private final long originNanos = System.nanoTime();
    private long steps;
    private long previousEndNanos = -1;
    private final StringBuilder line = new StringBuilder(128);  // reused: one line at a time, under the lock

    @Autowired
    public StepTrace(PodserveProperties props) {
        this(Path.of(props.scheduler().stepTrace()));
    }

    StepTrace(Path file) {
        try {
            if (file.toAbsolutePath().getParent() != null) Files.createDirectories(file.toAbsolutePath().getParent());
            out = Files.newBufferedWriter(file);
            out.write(HEADER);
            out.newLine();
        } catch (IOException e) {
            // At startup, so a mistyped path stops the server instead of tracing nowhere.
            throw new UncheckedIOException("podserve.scheduler.step-trace: cannot write " + file, e);
        }
    }

    @Override
    public synchronized void onStep(SchedulerOutput output, long forwardNanos) {
        long end = System.nanoTime();
        long start = end - forwardNanos;
        HybridBatch b = output.batch();
        int prefills = b.numPrefillRequests();
        int prefillMaxKv = 0;
        long decodeKv = 0;
        for (int r = 0; r < b.numRequests(); r++) {
            if (r < prefills) prefillMaxKv = Math.max(prefillMaxKv, b.kvLength(r));
            else decodeKv += b.kvLength(r);
        }
        StepAttention a = b.attention();
        String attention = a == null ? "backend" : a.modeLabel() + (a.mode() == AttentionMode.POD ? "/" + a.policyLabel() : "");
        long gapNanos = previousEndNanos < 0 ? 0 : start - previousEndNanos;
        previousEndNanos = end;
        // Built by hand: String.format was a quarter of the engine thread's time between steps in a
        // JFR profile with the trace on, and the trace must not inflate the gaps it measures.
        line.setLength(0);
        line.append(steps++).append(',');
        appendMillis(line, start - originNanos).append(',');
        appendMillis(line, gapNanos).append(',');
        appendMillis(line, forwardNanos).append(',');
        line.append(prefills).append(',').append(b.prefillTokens()).append(',').append(prefillMaxKv).append(',')
                .append(b.numDecodeRequests()).append(',').append(decodeKv).append(',').append(attention);
        try {
            out.append(line);
            out.newLine();
            if (steps % FLUSH_EVERY == 0) out.flush();
        } catch (IOException e) {
            // A full disk must not stop serving: the trace is a diagnostic.
            previousEndNanos = -1;
        }
    }

    /** Nanoseconds as milliseconds with three decimals (microseconds), rounded down. */
    static StringBuilder appendMillis(StringBuilder sb, long nanos) {
        if (nanos < 0) {
            sb.append('-');
            nanos = -nanos;
        }
        long micros = nanos / 1000;
        long frac = micros % 1000;
        sb.append(micros / 1000).append('.');
        if (frac < 100) sb.append('0');
        if (frac < 10) sb.append('0');
        return sb.append(frac);
    }

    /** Writes out what is buffered (tests; the server flushes by itself). */
    synchronized void flush() throws IOException {
        out.flush();
    }

    @Override
    public synchronized void destroy() throws IOException {
        out.close();
    }
}
