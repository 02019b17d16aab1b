package dev.gpubroker.jobs;

import java.time.Duration;
import java.time.Instant;

import dev.gpubroker.money.PricePerGpuHour;
import dev.gpubroker.money.Usdc;

/** GPU time and what it costs: the one rule both the running meter and the final bill use. */
final class Metering {

    private Metering() {
    }

    /** Whole seconds from running to the end, rounded up, times the GPUs held. */
    static long gpuSeconds(Instant startedAt, Instant endedAt, int gpuCount) {
        long seconds = Math.max(0, (Duration.between(startedAt, endedAt).toMillis() + 999) / 1000);
        return Math.multiplyExact(seconds, gpuCount);
    }

    /**
     * The start billed from: the provider's (or the job's own) report, but never after the broker had the answer that
     * said the job runs. A start reported in the future would make the run free.
     */
    static Instant billedStart(Instant reported, Instant answeredAt) {
        return reported.isAfter(answeredAt) ? answeredAt : reported;
    }

    /**
     * The end billed to: the provider's (or the job's own) report, but never before the broker last saw the attempt
     * running ({@code seenRunningAt}: when it asked and was told so; null when never) nor after it had the answer that
     * said it ended. What a provider reads from inside the job (a line it printed, its own clock, its last log line) is
     * the job's to forge; the broker's own sightings are not, so a job that prints an early end, or goes quiet and
     * stops, is billed at least to the last sighting: at most one status poll less than it ran.
     */
    static Instant billedEnd(Instant reported, Instant seenRunningAt, Instant answeredAt) {
        Instant end = reported.isAfter(answeredAt) ? answeredAt : reported;
        return seenRunningAt != null && end.isBefore(seenRunningAt) ? seenRunningAt : end;
    }

    /** Price × GPU-seconds, rounded up to the micro-unit, never above what was escrowed. */
    static Usdc cost(PricePerGpuHour price, long gpuSeconds, Usdc escrowed) {
        long micros = Math.ceilDiv(Math.multiplyExact(price.microsPerGpuHour(), gpuSeconds), 3600L);
        return Usdc.ofMicros(Math.min(micros, escrowed.micros()));
    }
}
