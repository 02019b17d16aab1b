package dev.gpubroker.market;

import reactor.core.publisher.Mono;

/** Running a job at a provider: launch, status by polling, logs, terminate. */
public interface JobExecution {

    /**
     * Starts a job on held (or re-checked) capacity. Idempotent by job id: a second launch of the same job launches
     * nothing more. A refusal is {@link LaunchOutcome.LaunchFailed} with its {@link ProviderFault}.
     */
    Mono<LaunchOutcome> launch(LaunchRequest request);

    /**
     * Where the job stands now, from the provider's own records: the job engine polls this, from whichever broker
     * instance holds the job's lease. A job the provider has no trace of is {@link JobStatus.Ended} with
     * {@link JobSignal.Lost}. {@link JobStatus.Running} means billable: the provider runs it AND, where the provider
     * runs images on real GPUs, the job's readiness probe found the promised GPUs.
     */
    Mono<JobStatus> status(String jobId);

    /** A page of the job's output (stdout and stderr, in order), from a cursor this method handed out, or from the start. */
    Mono<LogPage> logs(String jobId, String cursor, int limit);

    /** Stops the job. Idempotent: terminating an ended or unknown job does nothing. */
    Mono<Void> terminate(String jobId);
}
