package dev.gpubroker.jobs;

import org.springframework.stereotype.Component;

import dev.gpubroker.platform.signals.Announcements;
import reactor.core.publisher.Flux;

/** Announces that a job changed (its state, its events, its settlement), so that subscribed clients can be told. */
@Component
public class JobUpdates {

    private final Announcements changed = new Announcements();

    /** Jobs change on several threads at once (the engine's steps, cancels). */
    void publish(String jobId) {
        changed.announce(jobId);
    }

    /** The ids of jobs as they change; a slow subscriber misses updates rather than holding anyone up. */
    public Flux<String> changes() {
        return changed.all();
    }
}
