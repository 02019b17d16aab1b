package dev.gpubroker.metrics;

import java.time.Duration;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Reads gauges' values in the background, so that a scrape reports what was last read and never waits: one read at a
 * time every interval (a slow read makes the next wait, never overlap; ticks missed meanwhile are dropped), each read
 * bounded by {@link #READ_TIME_MAX}; a failed read keeps the last values and is retried on the next tick, logged once
 * per outage rather than every tick.
 */
final class BackgroundRefresh {

    /** A read slower than this is abandoned; the next tick tries again. */
    static final Duration READ_TIME_MAX = Duration.ofSeconds(30);

    private static final Logger log = LoggerFactory.getLogger(BackgroundRefresh.class);

    private final String what;
    private final Duration interval;
    private final Supplier<Mono<Void>> read;
    private volatile boolean failing;
    private volatile Disposable loop;

    /** @param what what the logs call the values read, e.g. "the database's gauges" */
    BackgroundRefresh(String what, Duration interval, Supplier<Mono<Void>> read) {
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException(what + ": the interval must be positive, not " + interval);
        }
        this.what = what;
        this.interval = interval;
        this.read = read;
    }

    void start() {
        loop = Flux.interval(Duration.ZERO, interval, Schedulers.parallel())
                .onBackpressureDrop()
                .concatMap(tick -> Mono.defer(read).timeout(READ_TIME_MAX)
                        .doOnSuccess(done -> {
                            if (failing) {
                                failing = false;
                                log.info("Reading {} works again", what);
                            }
                        })
                        .onErrorResume(error -> {
                            if (!failing) {
                                failing = true;
                                log.warn("Reading {} failed; they keep their last values and are read again every {}: {}",
                                        what, interval, error.toString());
                            }
                            return Mono.empty();
                        }), 1)
                .subscribe();
    }

    void stop() {
        Disposable running = loop;
        loop = null;
        if (running != null) {
            running.dispose();
        }
    }

    boolean isRunning() {
        return loop != null && !loop.isDisposed();
    }
}
