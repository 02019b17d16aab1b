package dev.gpubroker.admin;

import java.util.List;
import java.util.Locale;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import dev.gpubroker.jobs.JobService;
import dev.gpubroker.jobs.Job;
import dev.gpubroker.jobs.JobState;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Every agent's jobs, for the operator. Cancel stops a job: what it used is settled to the seller and the rest
 * refunded to the agent, exactly as when the agent cancels.
 */
@RestController
class AdminJobsController {

    /** The same cursor spelling and page size that the job_logs tool's schema allows. */
    private static final java.util.regex.Pattern LOG_CURSOR = java.util.regex.Pattern.compile("([0-9]{1,3}\\.)?[0-9]{1,16}");
    private static final int MAX_LOG_LINES = 1000;

    record JobView(String jobId, String agentId, String reservationId, String provider, String status, List<String> command,
            long gpuSeconds, String cost, String refund, String settlementTx, Integer exitCode, String createdAt,
            String startedAt, String endedAt, List<Job.Event> events) {

        static JobView of(Job job, List<Job.Event> events) {
            return new JobView(job.jobId(), job.agentId(), job.reservationId(), job.provider(), job.state().wireName(),
                    job.command(), job.gpuSeconds(), job.cost().toDecimalString(), job.refund().toDecimalString(),
                    job.settlementTx(), job.exitCode(), job.createdAt().toString(),
                    job.startedAt() == null ? null : job.startedAt().toString(),
                    job.endedAt() == null ? null : job.endedAt().toString(), events);
        }
    }

    private final JobService jobs;

    AdminJobsController(JobService jobs) {
        this.jobs = jobs;
    }

    /** Every agent's jobs, newest first, narrowed by agent, state, or the reservation they run on (one job at most). */
    @GetMapping(AdminRoutes.PREFIX + "/jobs")
    Flux<JobView> list(@RequestParam(required = false) String agentId, @RequestParam(required = false) String status,
            @RequestParam(required = false) String reservationId,
            @RequestParam(defaultValue = "50") int limit, @RequestParam(defaultValue = "0") int offset) {
        Paging.check(limit, offset);
        JobState state;
        try {
            state = status == null ? null : JobState.valueOf(status.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new AdminProblems.InvalidField("status", "status is launching, running, completed, failed or cancelled");
        }
        Flux<Job> found = reservationId == null ? jobs.list(agentId, state, limit, offset)
                : jobs.findByReservation(reservationId).flux()
                        .filter(job -> (agentId == null || job.agentId().equals(agentId))
                                && (state == null || job.state() == state))
                        .skip(offset).take(limit);
        return found.map(job -> JobView.of(job, List.of()));
    }

    @GetMapping(AdminRoutes.PREFIX + "/jobs/{jobId}")
    Mono<JobView> get(@PathVariable String jobId) {
        return existing(jobId).flatMap(job -> jobs.events(jobId).collectList().map(events -> JobView.of(job, events)));
    }

    @PostMapping(AdminRoutes.PREFIX + "/jobs/{jobId}/cancel")
    Mono<JobView> cancel(@PathVariable String jobId) {
        return existing(jobId).flatMap(jobs::cancel).then(get(jobId));
    }

    record LogPageView(String jobId, List<String> lines, String nextCursor) {
    }

    /**
     * A page of the job's output, as the agent reads it with {@code job_logs} (same cursor and limits). The lines are
     * what the job wrote: hostile text, which the console shows as text only.
     */
    @GetMapping(AdminRoutes.PREFIX + "/jobs/{jobId}/logs")
    Mono<LogPageView> logs(@PathVariable String jobId, @RequestParam(required = false) String cursor,
            @RequestParam(defaultValue = "200") int limit) {
        if (cursor != null && !LOG_CURSOR.matcher(cursor).matches()) {
            throw new AdminProblems.InvalidField("cursor", "cursor is the nextCursor of the previous page");
        }
        if (limit < 1 || limit > MAX_LOG_LINES) {
            throw new AdminProblems.InvalidField("limit", "limit is between 1 and " + MAX_LOG_LINES);
        }
        return existing(jobId).flatMap(job -> jobs.logs(job, cursor, limit))
                .map(page -> new LogPageView(jobId, page.lines(), page.nextCursor()));
    }

    private Mono<Job> existing(String jobId) {
        return jobs.find(jobId).switchIfEmpty(Mono.error(new AdminProblems.NotFound("no job " + jobId)));
    }
}
