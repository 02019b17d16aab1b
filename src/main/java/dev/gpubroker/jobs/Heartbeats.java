package dev.gpubroker.jobs;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ConcurrentHashMap;

import org.springframework.stereotype.Component;

import reactor.core.publisher.Mono;

/**
 * An agent's heartbeats for its jobs (the dead-man switch), written to the job's row at most once per
 * {@link #WRITE_INTERVAL} per job: every {@code job_status}, {@code job_logs} and {@code cancel} counts, and a row
 * update per call was a commit per call, where the switch works in whole seconds. So that coalescing can never stop a
 * job early, the switch gives every job {@link #WRITE_INTERVAL} on top of the heartbeat interval it asked for
 * ({@link JobService#stopSilentJobs}): the heartbeat on record is never older than the agent's last call by that much.
 */
@Component
class Heartbeats {

    static final Duration WRITE_INTERVAL = Duration.ofSeconds(1);

    /** Past this many jobs, those whose last write is older than the interval (and so suppress nothing) are dropped. */
    private static final int JOBS_TRACKED_MAX = 10_000;

    private final JobRepository jobs;
    private final Clock clock;
    private final ConcurrentHashMap<String, Instant> lastWritten = new ConcurrentHashMap<>();

    Heartbeats(JobRepository jobs, Clock clock) {
        this.jobs = jobs;
        this.clock = clock;
    }

    /** Records that the job's agent is alive: a write unless one was made for this job less than the interval ago. */
    Mono<Void> beat(Job job) {
        if (job.heartbeatSeconds() == null || job.state().isFinal()) {
            return Mono.empty();
        }
        Instant now = clock.instant();
        boolean[] claimed = {false};
        lastWritten.compute(job.jobId(), (jobId, last) -> {
            if (last != null && last.plus(WRITE_INTERVAL).isAfter(now)) {
                return last;
            }
            claimed[0] = true;
            return now;
        });
        if (!claimed[0]) {
            return Mono.empty();
        }
        if (lastWritten.size() > JOBS_TRACKED_MAX) {
            Instant stale = now.minus(WRITE_INTERVAL);
            lastWritten.values().removeIf(written -> written.isBefore(stale));
        }
        // A failed write must not suppress the next call's: the claim goes with it.
        return jobs.heartbeat(job.jobId(), now).doOnError(error -> lastWritten.remove(job.jobId(), now));
    }
}
