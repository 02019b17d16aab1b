package dev.gpubroker.jobs;

import org.springframework.stereotype.Component;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;

/** Announces that a job changed (its state, its events, its settlement), so that subscribed clients can be told. */
@Component
public class JobUpdates {

    private final Sinks.Many<String> changed = Sinks.many().multicast().directBestEffort();

    void publish(String jobId) {
        // Jobs change on several threads at once, and the sink refuses, silently, a signal emitted while another is.
        synchronized (changed) {
            changed.tryEmitNext(jobId);
        }
    }

    /** The ids of jobs as they change; a slow subscriber misses updates rather than holding anyone up. */
    public Flux<String> changes() {
        return changed.asFlux();
    }
}
