package dev.gpubroker.mcp.tools;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

import dev.gpubroker.jobs.JobService;
import dev.gpubroker.jobs.JobUpdates;
import dev.gpubroker.mcp.ProgressChannel;
import dev.gpubroker.jobs.Job;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Tells the client that started a job with a progress token how it goes: one {@code notifications/progress} per job
 * event (launching, launched, running, node lost, failover, completed, settlement submitted …) with the event's reason
 * as the message, numbered so progress always increases. Once the job has ended and its escrow is settled or refunded
 * the last report carries {@code total} = {@code progress}, and reporting stops; it also stops when the session is
 * gone, or after the job's maximum duration and a margin.
 */
@Component
class RunProgress {

    private static final Logger log = LoggerFactory.getLogger(RunProgress.class);
    private static final Duration MARGIN = Duration.ofMinutes(10);
    // Updates are best-effort (a slow subscriber misses some): a slow tick makes sure the last event is seen.
    private static final Duration TICK = Duration.ofSeconds(2);

    private final JobService jobs;
    private final JobUpdates updates;

    RunProgress(JobService jobs, JobUpdates updates) {
        this.jobs = jobs;
        this.updates = updates;
    }

    void follow(Job job, ProgressChannel channel) {
        AtomicInteger reported = new AtomicInteger();
        Flux.merge(Flux.just(job.jobId()), updates.changes().filter(job.jobId()::equals),
                        Flux.interval(TICK).map(tick -> job.jobId()))
                .concatMap(jobId -> reportNew(jobId, channel, reported), 1)
                .takeUntil(done -> done)
                .take(Duration.ofSeconds(job.maxDurationSeconds()).plus(MARGIN))
                .onErrorResume(error -> {
                    log.debug("Progress of job {} no longer reported: {}", job.jobId(), error.toString());
                    return Mono.empty();
                })
                .subscribe();
    }

    /** Reports the events not reported yet; true once the job's story is complete. */
    private Mono<Boolean> reportNew(String jobId, ProgressChannel channel, AtomicInteger reported) {
        return Mono.zip(jobs.find(jobId), jobs.events(jobId).collectList()).flatMap(found -> {
            Job job = found.getT1();
            List<Job.Event> events = found.getT2();
            boolean done = job.state().isFinal() && job.settlementTx() != null && !events.isEmpty()
                    && events.getLast().kind().endsWith("_submitted");
            Double total = done ? (double) events.size() : null;
            return Flux.range(reported.get(), Math.max(0, events.size() - reported.get()))
                    .concatMap(index -> channel.report(index + 1, total, events.get(index).kind() + ": "
                                    + events.get(index).detail())
                            .doOnSuccess(sent -> reported.set(index + 1)))
                    .then(Mono.just(done));
        });
    }
}
