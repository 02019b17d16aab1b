package dev.gpubroker.jobs;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import org.springframework.transaction.reactive.TransactionalOperator;

import dev.gpubroker.config.BrokerProperties;
import dev.gpubroker.lifecycle.BrokerInstance;
import dev.gpubroker.market.ComputeProvider;
import dev.gpubroker.market.JobSignal;
import dev.gpubroker.market.JobStatus;
import dev.gpubroker.market.LaunchOutcome;
import dev.gpubroker.market.LaunchRequest;
import dev.gpubroker.market.ProviderCatalog;
import dev.gpubroker.market.ProviderFaults;
import dev.gpubroker.market.QuoteService;
import dev.gpubroker.metrics.ProviderMetrics;
import dev.gpubroker.money.PricePerGpuHour;
import dev.gpubroker.money.Usdc;
import dev.gpubroker.payments.EscrowOperation;
import dev.gpubroker.payments.EscrowSubmission;
import dev.gpubroker.payments.EscrowSubmissions;
import dev.gpubroker.platform.faults.Fault;
import dev.gpubroker.platform.faults.Faults;
import dev.gpubroker.scheduler.Reservation;
import dev.gpubroker.scheduler.Reservations;
import reactor.core.publisher.Mono;

/**
 * The steps of a job, each taken by whichever instance holds the job's lease ({@link JobEngine}): launch it at the
 * provider, then follow it by asking the provider where it stands, meter GPU-seconds from running to the end, and
 * settle the escrow. Every step reads the job from the database and records what it saw before it acts, so that any
 * instance can take the next one. The job's own end (any exit code, the wall-clock limit, a cancel) is billed for the
 * GPU-seconds used, never more than escrowed. A provider's fault (launch failure, node lost) is never billed: the job
 * moves to the next-best live offer that fits the escrow ({@link FailoverPlanner}), and when none does, the whole
 * deposit is refunded.
 */
@Component
public class JobSteps {

    private static final Logger log = LoggerFactory.getLogger(JobSteps.class);

    private final ProviderCatalog providers;
    private final JobRepository jobs;
    private final Reservations reservations;
    private final QuoteService quotes;
    private final EscrowSubmissions escrow;
    private final FailoverPlanner failover;
    private final TransactionalOperator transaction;
    private final Clock clock;
    private final Duration launchTimeout;
    private final Duration statusTimeout;
    private final Duration pollInterval;
    private final Duration lease;
    private final JobUpdates updates;
    private final BrokerInstance instance;
    private final ProviderMetrics metrics;
    // Environment values live only here, in memory, on the instance that took the run call: they are never stored, so
    // only this instance can launch the job (or relaunch it after a failover) with them.
    private final Map<String, Map<String, String>> environments = new ConcurrentHashMap<>();

    public JobSteps(JobUpdates updates, ProviderCatalog providers, JobRepository jobs, Reservations reservations,
            QuoteService quotes, EscrowSubmissions escrow, FailoverPlanner failover,
            TransactionalOperator transaction, Clock clock, BrokerProperties properties, BrokerInstance instance,
            ProviderMetrics metrics) {
        this.updates = updates;
        this.metrics = metrics;
        this.instance = instance;
        this.lease = properties.jobs().lease();
        this.providers = providers;
        this.jobs = jobs;
        this.reservations = reservations;
        this.quotes = quotes;
        this.escrow = escrow;
        this.failover = failover;
        this.transaction = transaction;
        this.clock = clock;
        this.statusTimeout = properties.market().providerTimeout();
        this.launchTimeout = properties.market().providerTimeout().multipliedBy(4);
        this.pollInterval = properties.jobs().pollInterval();
    }

    /** The broker's poll interval, or the provider's when it asks to be polled less often. */
    private Duration pollIntervalOf(ComputeProvider provider) {
        return provider.statusPollInterval().filter(asked -> asked.compareTo(pollInterval) > 0).orElse(pollInterval);
    }

    Duration pollInterval() {
        return pollInterval;
    }

    /** A new job's environment values, kept in memory for its launch and any relaunch after a failover. */
    void remember(String jobId, Map<String, String> environment) {
        environments.put(jobId, Map.copyOf(environment));
    }

    /**
     * Takes the job's next step. Answers when the step after it is due (now, or after the poll interval); empty when
     * the job is over or was moved on by someone else meanwhile.
     */
    Mono<Instant> take(JobRepository.LeasedJob leased) {
        Job job = leased.job();
        if (job.state().isFinal()) {
            environments.remove(job.jobId());
            return Mono.empty();
        }
        Mono<Void> resumed = !leased.takenOver() ? Mono.empty() : event(job, "resumed", switch (leased.step()) {
            case LAUNCH -> "launch taken up again after a restart or by another instance (the one that held the job "
                    + "stopped)";
            case FOLLOW -> "followed again after a restart or by another instance (the one that held the job stopped)";
        }).doOnSuccess(ignored -> log.warn("Job {} was held by an instance that stopped: taken up here ({})",
                job.jobId(), leased.step()));
        return resumed.then(Mono.defer(() -> step(leased)));
    }

    private Mono<Instant> step(JobRepository.LeasedJob leased) {
        Job job = leased.job();
        return switch (leased.step()) {
            case LAUNCH -> reservations.findById(job.reservationId())
                    .flatMap(reservation -> launch(job, reservation))
                    .then(Mono.fromSupplier(clock::instant));
            case FOLLOW -> providers.find(job.provider())
                    .map(provider -> follow(job, provider))
                    .orElseGet(() -> providerFault(job, "provider " + job.provider() + " is no longer configured")
                            .then(Mono.fromSupplier(clock::instant)));
        };
    }

    /** Launches the job's current attempt; once launched, the job is followed from its next step on. */
    private Mono<Void> launch(Job job, Reservation reservation) {
        ComputeProvider provider = providers.find(job.provider()).orElse(null);
        if (provider == null) {
            return providerFault(job, "provider " + job.provider() + " is no longer configured");
        }
        Map<String, String> environment = environments.get(job.jobId());
        if (environment == null && job.hasEnvironment()) {
            return provider.terminate(job.providerJobId()).onErrorResume(ignored -> Mono.empty())
                    .then(refundAll(job, "its environment values are never stored and the server that took the run "
                            + "call stopped before the launch finished; run it again on a new reservation"));
        }
        LaunchRequest request = new LaunchRequest(job.providerJobId(), reservation.holdId(), reservation.offerId(),
                reservation.gpuCount(), job.command(), job.image(), environment == null ? Map.of() : environment,
                Duration.ofSeconds(job.maxDurationSeconds()));
        // Only the launch itself counts as the provider failing to answer; a fault later, while following the job, is
        // retried by the engine at the next step. A launch may take longer than the lease of a step: keep the job.
        return jobs.extendLease(job.jobId(), instance.id(), clock.instant().plus(launchTimeout).plus(lease))
                .then(Mono.defer(() -> provider.launch(request))).timeout(launchTimeout)
                .doOnNext(outcome -> {
                    if (outcome instanceof LaunchOutcome.LaunchFailed) {
                        metrics.failed(job.provider(), ProviderMetrics.Operation.LAUNCH, ProviderMetrics.Kind.REFUSED);
                    }
                })
                .onErrorResume(error -> {
                    metrics.failed(job.provider(), ProviderMetrics.Operation.LAUNCH, ProviderFaults.kindOf(error));
                    log.warn("Job {}: launch at {} failed: {}", job.jobId(), job.provider(), error.toString());
                    String why = Faults.classify(error) == Fault.TIMEOUT
                            ? "no answer within " + launchTimeout.toSeconds() + " s" : error.getMessage();
                    return provider.terminate(job.providerJobId()).onErrorResume(ignored -> Mono.empty())
                            .thenReturn(new LaunchOutcome.LaunchFailed("the provider did not answer the launch: " + why));
                })
                .flatMap(outcome -> switch (outcome) {
                    case LaunchOutcome.LaunchFailed failed -> event(job, "launch_failed", failed.reason())
                            .then(providerFault(job, "launch failed: " + failed.reason()));
                    case LaunchOutcome.Launched launched -> jobs.launched(job.jobId(), job.attempt())
                            .filter(Boolean::booleanValue)
                            .flatMap(first -> event(job, "launched", "started at " + job.provider()
                                    + (job.attempt() > 1 ? " (attempt " + job.attempt() + ")" : "")))
                            .then(stopIfCancelled(job, provider));
                });
    }

    /**
     * Asks the provider where the job stands and records what changed: running (metered from the provider's start),
     * ended by itself or on request (billed), lost (the provider's fault: failover or refund).
     */
    private Mono<Instant> follow(Job job, ComputeProvider provider) {
        // A cancel taken by any instance is carried out here, by the one holding the job: only it may be able to reach
        // the job (its processes, its provider session). Terminating is idempotent; the status then says it stopped.
        Mono<Void> stopIfCancelled = !job.cancelRequested() ? Mono.empty()
                : Mono.defer(() -> provider.terminate(job.providerJobId())).timeout(launchTimeout)
                        .onErrorResume(error -> {
                            log.warn("Job {}: stopping it at {} failed, retrying: {}", job.jobId(), job.provider(),
                                    error.toString());
                            return Mono.empty();
                        });
        return stopIfCancelled.then(Mono.defer(() -> {
            // When the provider was asked and when it answered bound what it says: a job it says runs ran at some
            // moment between the two (Metering.billedStart, billedEnd).
            Instant askedAt = clock.instant();
            return provider.status(job.providerJobId()).timeout(statusTimeout)
                    // Retried by the engine at the next step; counted here, where the provider is asked.
                    .doOnError(error -> metrics.failed(job.provider(), ProviderMetrics.Operation.STATUS,
                            ProviderFaults.kindOf(error)))
                    .flatMap(status -> {
                        Instant answeredAt = clock.instant();
                        return switch (status) {
                            case JobStatus.Starting starting -> Mono.just(clock.instant().plus(pollIntervalOf(provider)));
                            case JobStatus.Running running -> (job.state() == JobState.LAUNCHING
                                            ? markRunning(job, Metering.billedStart(running.startedAt(), answeredAt),
                                                    running.readiness(), askedAt)
                                            : jobs.seenRunning(job.jobId(), job.attempt(), askedAt))
                                    .then(Mono.fromSupplier(() -> clock.instant().plus(pollIntervalOf(provider))));
                            case JobStatus.Ended ended -> (ended.startedAt() == null ? Mono.<Void>empty()
                                            : markRunning(job, Metering.billedStart(ended.startedAt(), answeredAt),
                                                    ended.readiness(), null))
                                    .then(ended(job, provider, ended.how(), answeredAt))
                                    .then(Mono.fromSupplier(clock::instant));
                        };
                    });
        }));
    }

    /** @param seenRunningAt when the provider was asked and said the attempt runs; null when it said it had ended */
    private Mono<Void> markRunning(Job job, Instant startedAt, String readiness, Instant seenRunningAt) {
        if (job.state() != JobState.LAUNCHING) {
            return Mono.empty();
        }
        return jobs.markRunning(job.jobId(), job.attempt(), startedAt, seenRunningAt)
                .filter(Boolean::booleanValue)
                .flatMap(moved -> (readiness == null ? Mono.<Void>empty() : event(job, "ready", readiness))
                        .then(event(job, "running", "GPU time is metered from " + startedAt)));
    }

    private Mono<Void> ended(Job job, ComputeProvider provider, JobSignal how, Instant answeredAt) {
        return switch (how) {
            case JobSignal.Exited exited -> finish(job, exited.exitCode() == 0 && !exited.timedOut()
                            ? JobState.COMPLETED : JobState.FAILED, exited.at(), answeredAt, exited.exitCode(),
                    exited.timedOut() ? "stopped at its maximum duration" : "exited with code " + exited.exitCode());
            case JobSignal.Terminated terminated -> finish(job, JobState.CANCELLED, terminated.at(), answeredAt, null,
                    "stopped on request");
            case JobSignal.Lost lost -> {
                metrics.failed(job.provider(), ProviderMetrics.Operation.STATUS, ProviderMetrics.Kind.LOST);
                // Lost to the broker need not mean gone at the provider (a GPU that failed the readiness probe, an
                // instance that stopped answering): stop it there before failing over, so that nothing left behind
                // runs on the operator's account. Terminating is idempotent; a failure here does not hold up the job.
                Mono<Void> stopped = Mono.defer(() -> provider.terminate(job.providerJobId())).timeout(launchTimeout)
                        .onErrorResume(error -> {
                            log.warn("Job {}: stopping the lost job at {} failed: {}", job.jobId(), job.provider(),
                                    error.toString());
                            return Mono.empty();
                        });
                yield stopped.then(event(job, "node_lost", lost.reason())).then(providerFault(job, lost.reason()));
            }
            case JobSignal.Running running -> Mono.error(new IllegalStateException("an end that is a start"));
        };
    }

    /** A cancel that came while the launch was under way: stop the job now that it exists at the provider. */
    private Mono<Void> stopIfCancelled(Job job, ComputeProvider provider) {
        return jobs.findById(job.jobId()).filter(Job::cancelRequested)
                .flatMap(cancelled -> provider.terminate(job.providerJobId()));
    }

    /**
     * The job's own end: bill the GPU-seconds used at the price of the offer it ran on, refund the rest. The end billed
     * is the one reported, bounded by what the broker saw itself ({@link Metering#billedEnd}).
     */
    private Mono<Void> finish(Job job, JobState state, Instant reportedEnd, Instant answeredAt, Integer exitCode,
            String why) {
        return Mono.zip(jobs.findById(job.jobId()), reservations.findById(job.reservationId())).flatMap(found -> {
            Job current = found.getT1();
            Reservation reservation = found.getT2();
            if (current.attempt() != job.attempt()) {
                return Mono.<Void>empty();
            }
            Instant endedAt = Metering.billedEnd(reportedEnd, current.seenRunningAt(), answeredAt);
            if (endedAt.isAfter(reportedEnd)) {
                log.warn("Job {}: {} reported its end at {}, before the broker last saw it running ({}): billed to {}",
                        job.jobId(), job.provider(), reportedEnd, current.seenRunningAt(), endedAt);
            }
            long gpuSeconds = Metering.gpuSeconds(current.startedAt() == null ? endedAt : current.startedAt(), endedAt,
                    reservation.gpuCount());
            return priceOf(current, reservation).flatMap(price -> {
                Usdc cost = Metering.cost(price, gpuSeconds, reservation.amount());
                Usdc refund = reservation.amount().minus(cost);
                return jobs.end(job.jobId(), state, endedAt, exitCode, gpuSeconds, cost, refund)
                        .doOnNext(ended -> environments.remove(job.jobId()))
                        .flatMap(ended -> !ended ? Mono.<Void>empty()
                                : event(job, state.wireName(), why + "; " + gpuSeconds + " GPU-seconds at "
                                                + price.toDecimalString() + "/GPU-h, cost " + cost + ", refund " + refund)
                                        .then(reservations.findById(reservation.reservationId()))
                                        .flatMap(latest -> escrow.submit(new EscrowOperation.Settle(latest, cost)))
                                        .map(EscrowSubmission::transaction)
                                        .flatMap(sent -> jobs.setSettlementTx(job.jobId(), sent.hash())
                                                .then(event(job, "settlement_submitted", sent.hash()))));
            });
        });
    }

    /** Jobs from before failover existed carry no price of their own: theirs is the reservation's quote. */
    Mono<PricePerGpuHour> priceOf(Job job, Reservation reservation) {
        return job.price() != null ? Mono.just(job.price())
                : quotes.findById(reservation.quoteId()).map(quote -> quote.price());
    }

    /** The provider's fault: never billed. Move to the next-best offer that fits the escrow, or refund everything. */
    private Mono<Void> providerFault(Job faulted, String reason) {
        return Mono.zip(jobs.findById(faulted.jobId()), reservations.findById(faulted.reservationId()))
                .filter(found -> found.getT1().attempt() == faulted.attempt() && !found.getT1().state().isFinal())
                .flatMap(found -> failover.plan(found.getT1(), found.getT2(), faulted.provider(),
                                environments.containsKey(faulted.jobId()))
                        .flatMap(decision -> switch (decision) {
                            case FailoverPlanner.Decision.Move move -> moveTo(found.getT1(), found.getT2(), move, reason);
                            case FailoverPlanner.Decision.Stay stay -> event(faulted, "no_failover", stay.why())
                                    .then(refundAll(found.getT1(), reason));
                        }));
    }

    /** Moves the job and its reservation to the held offer in one transaction, frees the old hold, launches there. */
    private Mono<Void> moveTo(Job job, Reservation reservation, FailoverPlanner.Decision.Move move, String reason) {
        Instant now = clock.instant();
        Mono<Boolean> moved = jobs.failOver(job.jobId(), job.attempt(), job.provider(), move.offer().provider(),
                        move.offer().price(), now)
                .flatMap(jobMoved -> !jobMoved ? Mono.just(false)
                        : reservations.moveToOffer(reservation.reservationId(), reservation.holdId(), move.offer().provider(),
                                        move.offer().offerId(), move.holdId(), now)
                                .flatMap(reservationMoved -> reservationMoved.moved() ? Mono.just(true)
                                        : Mono.error(new MovedMeanwhile())));
        ComputeProvider target = providers.find(move.offer().provider()).orElseThrow();
        return transaction.transactional(moved)
                .onErrorResume(MovedMeanwhile.class, raced -> Mono.just(false))
                .flatMap(done -> {
                    if (!done) {
                        // Cancelled, ended or moved meanwhile: give the new hold back, and refund only if the job is
                        // still open on the attempt that failed (never one a concurrent move has launched elsewhere).
                        return target.holds().release(move.holdId()).onErrorResume(ignored -> Mono.empty())
                                .then(jobs.findById(job.jobId()))
                                .filter(current -> current.attempt() == job.attempt())
                                .flatMap(current -> refundAll(current, reason));
                    }
                    log.info("Job {}: {} failed it ({}); {}", job.jobId(), job.provider(), reason, move.why());
                    return releaseQuietly(reservation.provider(), reservation.holdId())
                            .then(event(job, "failover", move.why()))
                            // Launched from here at once: this instance may hold the environment values it needs.
                            .then(Mono.zip(jobs.findById(job.jobId()), reservations.findById(reservation.reservationId())))
                            .flatMap(next -> launch(next.getT1(), next.getT2()));
                });
    }

    private Mono<Void> releaseQuietly(String providerName, String holdId) {
        return providers.find(providerName).map(provider -> provider.holds().release(holdId)
                        .onErrorResume(error -> {
                            // The reservation timers release capacity of closed reservations again; nothing is lost.
                            log.warn("Releasing hold {} at {} failed: {}", holdId, providerName, error.toString());
                            return Mono.empty();
                        }))
                .orElse(Mono.empty());
    }

    /** Nothing is billed: the whole deposit goes back. */
    private Mono<Void> refundAll(Job job, String reason) {
        environments.remove(job.jobId());
        return reservations.findById(job.reservationId()).flatMap(reservation -> jobs.end(job.jobId(), JobState.FAILED,
                        clock.instant(), null, 0, Usdc.ZERO, reservation.amount())
                .flatMap(ended -> !ended ? Mono.<Void>empty()
                        : event(job, "refund", "not billed: " + reason)
                                .then(reservations.findById(reservation.reservationId()))
                                .flatMap(latest -> escrow.submit(new EscrowOperation.Refund(latest)))
                                // As before: one already on its way is not recorded here; JobRecovery records what closed the escrow.
                                .filter(EscrowSubmission.Submitted.class::isInstance)
                                .map(EscrowSubmission::transaction)
                                .flatMap(sent -> jobs.setSettlementTx(job.jobId(), sent.hash())
                                        .then(event(job, "refund_submitted", sent.hash())))));
    }

    private Mono<Void> event(Job job, String kind, String detail) {
        return jobs.addEvent(job.jobId(), clock.instant(), kind, detail)
                .doOnSuccess(ignored -> updates.publish(job.jobId()));
    }

    /** The reservation moved or closed between reading it and moving it: the transaction is rolled back. */
    private static final class MovedMeanwhile extends RuntimeException {
        MovedMeanwhile() {
            super("the reservation changed during the failover", null, false, false);
        }
    }
}
