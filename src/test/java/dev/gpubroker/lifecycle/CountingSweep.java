package dev.gpubroker.lifecycle;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;

import reactor.core.publisher.Mono;

/**
 * A sweep that only counts: its passes, the passes of every sweep sharing {@code running} under way at once (an
 * overlap when more than one), and the passes cancelled. Its first pass may take longer than the others.
 */
final class CountingSweep extends PeriodicSweep {

    final AtomicInteger passes = new AtomicInteger();
    final AtomicInteger cancelled = new AtomicInteger();
    volatile Instant firstPassAt;
    private final AtomicInteger running;
    private final AtomicInteger overlaps;
    private final Duration firstPassTime;
    private final Duration passTime;

    CountingSweep(String leaseName, Duration interval, Duration firstPassTime, Duration passTime, AtomicInteger running,
            AtomicInteger overlaps) {
        super("Counting sweep", leaseName, interval);
        this.running = running;
        this.overlaps = overlaps;
        this.firstPassTime = firstPassTime;
        this.passTime = passTime;
    }

    @Override
    public Mono<Void> sweep() {
        return Mono.defer(() -> {
                    if (running.incrementAndGet() > 1) {
                        overlaps.incrementAndGet();
                    }
                    boolean first = passes.getAndIncrement() == 0;
                    if (first) {
                        firstPassAt = Instant.now();
                    }
                    return Mono.delay(first ? firstPassTime : passTime).then();
                })
                // Counted as over before the end reaches the sweep's loop, which may start the next pass at once: doFinally
                // would count it after, and a next pass starting on another thread meanwhile would look like an overlap.
                .doOnTerminate(running::decrementAndGet)
                .doOnCancel(() -> {
                    running.decrementAndGet();
                    cancelled.incrementAndGet();
                });
    }
}
