package dev.gpubroker.metrics;

import java.time.Duration;
import java.util.function.IntSupplier;

import org.springframework.stereotype.Component;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * The relayer: submissions waiting in this instance's lane ({@code gpubroker_relayer_queue_depth}), and how long a
 * mined transaction took from its broadcast until its outcome was recorded with the configured confirmations
 * ({@code gpubroker_relayer_confirmation_duration_seconds}, by purpose and outcome; recorded by the instance that
 * recorded the outcome).
 */
@Component
public class RelayerMetrics {

    static final String QUEUE_DEPTH = "gpubroker.relayer.queue.depth";
    static final String CONFIRMATION_DURATION = "gpubroker.relayer.confirmation.duration";
    /** From one block (a second on anvil, two on Base) to the receipt timeout and past it (replacements). */
    private static final Duration[] CONFIRMATION_BUCKETS = {Duration.ofSeconds(1), Duration.ofSeconds(2),
            Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofSeconds(60),
            Duration.ofSeconds(120), Duration.ofSeconds(300), Duration.ofSeconds(600)};

    private final MeterRegistry registry;

    public RelayerMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /** Meters nobody reads: for a second relayer built by hand (a test simulating another instance in one JVM). */
    public static RelayerMetrics unread() {
        return new RelayerMetrics(new SimpleMeterRegistry());
    }

    /** Reports the lane's depth as {@code depth} says, read at each scrape. */
    public void watchQueueDepth(IntSupplier depth) {
        Gauge.builder(QUEUE_DEPTH, depth, IntSupplier::getAsInt)
                .description("Submissions waiting in this instance's relayer lane")
                .strongReference(true)
                .register(registry);
    }

    /**
     * @param outcome {@code confirmed} or {@code reverted}
     */
    public void mined(String purpose, String outcome, Duration sinceBroadcast) {
        Timer.builder(CONFIRMATION_DURATION)
                .description("From a relayer transaction's broadcast until its outcome was recorded with the "
                        + "configured confirmations")
                .tag("purpose", purpose)
                .tag("outcome", outcome)
                .serviceLevelObjectives(CONFIRMATION_BUCKETS)
                .register(registry)
                .record(sinceBroadcast.isNegative() ? Duration.ZERO : sinceBroadcast);
    }
}
