package dev.gpubroker.market;

import java.util.List;

import reactor.core.publisher.Mono;

/**
 * One seller of GPU time behind one interface: a marketplace, a cloud, this host. Answers are normalised at the
 * edge into {@link Offer}s with explicit units. Failures of the provider itself (API down, malformed answer) are
 * signalled as {@link ProviderUnavailableException}; expected refusals are {@link HoldOutcome} values.
 * The caller bounds every call with a timeout, so an implementation may be slow but must never block a thread.
 */
public interface ComputeProvider {

    /** A stable, unique name such as {@code demo-nimbus}; it appears in quotes and in {@code providers} filters. */
    String name();

    /** The offers that could serve this query now; an empty list when none fits. */
    Mono<List<Offer>> offers(OfferQuery query);

    /**
     * Holds capacity for a reservation. Idempotent by {@link HoldRequest#holdId()}: holding the same id again answers
     * the same outcome and holds nothing more.
     */
    Mono<HoldOutcome> hold(HoldRequest request);

    /** Releases a hold. Idempotent: releasing an unknown or released hold does nothing. */
    Mono<Void> release(String holdId);

    /** Starts a job on held capacity. Idempotent by job id: a second launch of the same job launches nothing more. */
    Mono<LaunchOutcome> launch(LaunchRequest request);

    /**
     * Where the job stands now, from the provider's own records: the job engine polls this, from whichever broker
     * instance holds the job's lease. A job the provider has no trace of is {@link JobStatus.Ended} with
     * {@link JobSignal.Lost}.
     */
    Mono<JobStatus> status(String jobId);

    /** A page of the job's output (stdout and stderr, in order), from a cursor this method handed out, or from the start. */
    Mono<LogPage> logs(String jobId, String cursor, int limit);

    /** Stops the job. Idempotent: terminating an ended or unknown job does nothing. */
    Mono<Void> terminate(String jobId);
}
