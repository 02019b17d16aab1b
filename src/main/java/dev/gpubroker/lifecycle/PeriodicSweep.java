package dev.gpubroker.lifecycle;

import java.time.Duration;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * A pass over some persisted work, repeated at a fixed interval while the server runs: one pass at a time (a slow pass
 * makes the next one wait, never overlap), and a failing pass is logged and retried on the next tick. Driven from
 * the database, so a restart picks up where it stood.
 */
public abstract class PeriodicSweep implements SmartLifecycle {

    private final Logger log = LoggerFactory.getLogger(getClass());
    private final Duration interval;
    private final String name;
    private volatile Disposable loop;

    protected PeriodicSweep(String name, Duration interval) {
        this.name = name;
        this.interval = interval;
    }

    /** One pass; public so that tests and recovery can run it on demand. */
    public abstract Mono<Void> sweep();

    @Override
    public void start() {
        loop = Flux.interval(Duration.ZERO, interval, Schedulers.parallel())
                .onBackpressureDrop()
                .concatMap(tick -> sweep().onErrorResume(error -> {
                    log.warn("{} pass failed; retrying in {}: {}", name, interval, error.toString());
                    return Mono.empty();
                }), 1)
                .subscribe();
        log.info("{} running every {}", name, interval);
    }

    @Override
    public void stop() {
        Disposable running = loop;
        if (running != null) {
            running.dispose();
        }
        loop = null;
    }

    @Override
    public boolean isRunning() {
        return loop != null && !loop.isDisposed();
    }
}
