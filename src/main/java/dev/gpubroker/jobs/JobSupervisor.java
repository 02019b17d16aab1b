package dev.gpubroker.jobs;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

import dev.gpubroker.config.BrokerProperties;
import dev.gpubroker.market.ComputeProvider;
import dev.gpubroker.market.JobSignal;
import dev.gpubroker.market.LaunchOutcome;
import dev.gpubroker.market.LaunchRequest;
import dev.gpubroker.market.ProviderCatalog;
import dev.gpubroker.money.PricePerGpuHour;
import dev.gpubroker.money.Usdc;
import dev.gpubroker.payments.RefundService;
import dev.gpubroker.payments.SettlementService;
import dev.gpubroker.scheduler.Job;
import dev.gpubroker.scheduler.JobState;
import dev.gpubroker.scheduler.Reservation;
import dev.gpubroker.store.JobRepository;
import dev.gpubroker.store.QuoteRepository;
import dev.gpubroker.store.ReservationRepository;
import reactor.core.publisher.Mono;

/**
 * Drives one job from launch to settlement: launches it at the provider, follows its signals, meters GPU-seconds from
 * running to the end, and settles the escrow: the job's own end (any exit code, the wall-clock limit, a cancel) is
 * billed for the GPU-seconds used, never more than escrowed; a provider's fault (launch failure, node lost) is never
 * billed: the whole deposit is refunded.
 */
@Component
public class JobSupervisor {

    private static final Logger log = LoggerFactory.getLogger(JobSupervisor.class);

    private final ProviderCatalog providers;
    private final JobRepository jobs;
    private final ReservationRepository reservations;
    private final QuoteRepository quotes;
    private final SettlementService settlements;
    private final RefundService refunds;
    private final Clock clock;
    private final Duration providerTimeout;
    private final JobUpdates updates;

    public JobSupervisor(JobUpdates updates, ProviderCatalog providers, JobRepository jobs, ReservationRepository reservations,
            QuoteRepository quotes, SettlementService settlements, RefundService refunds, Clock clock,
            BrokerProperties properties) {
        this.updates = updates;
        this.providers = providers;
        this.jobs = jobs;
        this.reservations = reservations;
        this.quotes = quotes;
        this.settlements = settlements;
        this.refunds = refunds;
        this.clock = clock;
        this.providerTimeout = properties.market().providerTimeout();
    }

    private final java.util.Set<String> following = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** Whether this server follows the job now (after a restart, nobody does until recovery resumes it). */
    boolean isFollowing(String jobId) {
        return following.contains(jobId);
    }

    /** Follows a job launched before (after a restart). */
    void resume(Job job, Reservation reservation) {
        ComputeProvider provider = providers.find(job.provider()).orElse(null);
        if (!following.add(job.jobId())) {
            return;
        }
        Mono<Void> followed = provider == null
                ? providerFault(job, reservation, "provider " + job.provider() + " is no longer configured")
                : event(job, "resumed", "followed again after a restart").then(follow(job, reservation, provider));
        followed.doFinally(signal -> following.remove(job.jobId())).subscribe();
    }

    /** Launches and follows the job in the background; the caller does not wait. */
    void supervise(Job job, Reservation reservation, LaunchRequest request) {
        ComputeProvider provider = providers.find(job.provider()).orElse(null);
        if (provider == null) {
            providerFault(job, reservation, "provider " + job.provider() + " is no longer configured").subscribe();
            return;
        }
        following.add(job.jobId());
        Mono.defer(() -> provider.launch(request)).timeout(providerTimeout.multipliedBy(4))
                .flatMap(outcome -> switch (outcome) {
                    case LaunchOutcome.LaunchFailed failed -> event(job, "launch_failed", failed.reason())
                            .then(providerFault(job, reservation, "launch failed: " + failed.reason()));
                    case LaunchOutcome.Launched launched -> event(job, "launched", "started at " + job.provider())
                            .then(follow(job, reservation, provider));
                })
                .onErrorResume(error -> {
                    log.warn("Job {}: supervision failed: {}", job.jobId(), error.toString());
                    return provider.terminate(job.jobId()).onErrorResume(ignored -> Mono.empty())
                            .then(providerFault(job, reservation, "the provider did not answer: " + error.getMessage()));
                })
                .doFinally(signal -> following.remove(job.jobId()))
                .subscribe();
    }

    private Mono<Void> follow(Job job, Reservation reservation, ComputeProvider provider) {
        return provider.watch(job.jobId())
                .concatMap(signal -> switch (signal) {
                    case JobSignal.Running running -> jobs.markRunning(job.jobId(), running.at())
                            .then(event(job, "running", "GPU time is metered from " + running.at()));
                    case JobSignal.Exited exited -> finish(job, reservation, exited.exitCode() == 0 && !exited.timedOut()
                                    ? JobState.COMPLETED : JobState.FAILED, exited.at(), exited.exitCode(),
                            exited.timedOut() ? "stopped at its maximum duration" : "exited with code " + exited.exitCode());
                    case JobSignal.Terminated terminated -> finish(job, reservation, JobState.CANCELLED, terminated.at(),
                            null, "stopped on request");
                    case JobSignal.Lost lost -> event(job, "node_lost", lost.reason())
                            .then(providerFault(job, reservation, lost.reason()));
                })
                // A provider that stops reporting without saying how the job ended has lost it: never billed.
                .then(Mono.defer(() -> jobs.findById(job.jobId())
                        .filter(current -> !current.state().isFinal())
                        .flatMap(current -> event(job, "node_lost", "the provider stopped reporting on the job")
                                .then(providerFault(job, reservation, "the provider stopped reporting on the job")))));
    }

    /** The job's own end: bill the GPU-seconds used, refund the rest. */
    private Mono<Void> finish(Job job, Reservation reservation, JobState state, Instant endedAt, Integer exitCode,
            String why) {
        return jobs.findById(job.jobId()).flatMap(current -> {
            Instant startedAt = current.startedAt() == null ? endedAt : current.startedAt();
            long seconds = Math.max(0, (Duration.between(startedAt, endedAt).toMillis() + 999) / 1000);
            long gpuSeconds = seconds * reservation.gpuCount();
            return quotes.findById(reservation.quoteId()).flatMap(quote -> {
                Usdc cost = costOf(quote.price(), gpuSeconds, reservation.amount());
                Usdc refund = reservation.amount().minus(cost);
                return jobs.end(job.jobId(), state, endedAt, exitCode, gpuSeconds, cost, refund)
                        .flatMap(ended -> !ended ? Mono.<Void>empty()
                                : event(job, state.wireName(), why + "; " + gpuSeconds + " GPU-seconds, cost " + cost
                                                + ", refund " + refund)
                                        .then(reservations.findById(reservation.reservationId()))
                                        .flatMap(latest -> settlements.settle(latest, cost))
                                        .flatMap(sent -> jobs.setSettlementTx(job.jobId(), sent.hash())
                                                .then(event(job, "settlement_submitted", sent.hash()))));
            });
        });
    }

    /** The provider's fault: nothing is billed, the whole deposit goes back. */
    private Mono<Void> providerFault(Job job, Reservation reservation, String reason) {
        Instant now = clock.instant();
        return jobs.end(job.jobId(), JobState.FAILED, now, null, 0, Usdc.ZERO, reservation.amount())
                .flatMap(ended -> !ended ? Mono.<Void>empty()
                        : event(job, "refund", "provider fault, not billed: " + reason)
                                .then(reservations.findById(reservation.reservationId()))
                                .flatMap(refunds::refund)
                                .flatMap(sent -> jobs.setSettlementTx(job.jobId(), sent.hash())
                                        .then(event(job, "refund_submitted", sent.hash()))));
    }

    /** Price × GPU-seconds, rounded up to the micro-unit, never above what was escrowed. */
    static Usdc costOf(PricePerGpuHour price, long gpuSeconds, Usdc escrowed) {
        long micros = Math.ceilDiv(Math.multiplyExact(price.microsPerGpuHour(), gpuSeconds), 3600L);
        return Usdc.ofMicros(Math.min(micros, escrowed.micros()));
    }

    private Mono<Void> event(Job job, String kind, String detail) {
        return jobs.addEvent(job.jobId(), clock.instant(), kind, detail)
                .doOnSuccess(ignored -> updates.publish(job.jobId()));
    }
}
