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

    /** Price × GPU-seconds, rounded up to the micro-unit, never above what was escrowed. */
    static Usdc cost(PricePerGpuHour price, long gpuSeconds, Usdc escrowed) {
        long micros = Math.ceilDiv(Math.multiplyExact(price.microsPerGpuHour(), gpuSeconds), 3600L);
        return Usdc.ofMicros(Math.min(micros, escrowed.micros()));
    }
}
