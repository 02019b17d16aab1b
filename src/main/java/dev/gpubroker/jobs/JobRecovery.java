package dev.gpubroker.jobs;

import dev.gpubroker.lifecycle.PeriodicSweep;
import java.time.Duration;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

import dev.gpubroker.payments.EscrowOperation;
import dev.gpubroker.payments.EscrowSubmission;
import dev.gpubroker.payments.EscrowSubmissions;
import dev.gpubroker.payments.Reclaims;
import dev.gpubroker.payments.relayer.ChainTransaction;
import dev.gpubroker.scheduler.Reservation;
import dev.gpubroker.scheduler.ReservationState;
import dev.gpubroker.scheduler.Reservations;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * After a restart (or a crash between two steps), closes what the job engine left: an ended job whose escrow was not
 * yet settled is settled or refunded (open jobs are the {@link JobEngine}'s: an instance that dies leaves a lease that
 * runs out, and another takes the job up); a job whose agent stopped sending heartbeats is stopped
 * (the dead-man switch). Settlement and refund are each submitted at most once per
 * reservation, so nothing is paid twice.
 */
@Component
public class JobRecovery extends PeriodicSweep {

    private static final Logger log = LoggerFactory.getLogger(JobRecovery.class);
    private static final Duration SWEEP_INTERVAL = Duration.ofSeconds(2);
    private static final int BATCH_SIZE_MAX = 100;

    private final JobRepository jobs;
    private final Reservations reservations;
    private final EscrowSubmissions escrow;
    private final java.time.Clock clock;
    private final JobService jobService;
    private final Reclaims reclaims;

    public JobRecovery(JobRepository jobs, Reservations reservations,
            EscrowSubmissions escrow,
            java.time.Clock clock, JobService jobService, Reclaims reclaims) {
        super("Job recovery", SWEEP_INTERVAL);
        this.reclaims = reclaims;
        this.clock = clock;
        this.jobService = jobService;
        this.jobs = jobs;
        this.reservations = reservations;
        this.escrow = escrow;
    }

    @Override
    public Mono<Void> sweep() {
        return jobs.findEndedUnsettled(BATCH_SIZE_MAX)
                .concatMap(this::closeEscrow)
                .then(Mono.defer(jobService::stopSilentJobs));
    }

    private Mono<Void> closeEscrow(Job job) {
        return reservations.findById(job.reservationId())
                .flatMap(reservation -> reservation.state() == ReservationState.RUNNING && job.settlementTx() == null
                        ? submitClosing(job, reservation)
                        // Closed meanwhile (its refund or settlement confirmed before the job recorded it), reclaimed by
                        // its payer, or its settlement failed on chain: find what closed it.
                        : recordClosing(job, reservation))
                .onErrorResume(error -> {
                    log.warn("Closing the escrow of job {} failed, retrying: {}", job.jobId(), error.toString());
                    return Mono.empty();
                });
    }

    private Mono<Void> submitClosing(Job job, Reservation reservation) {
        boolean providerFault = job.state() == JobState.FAILED && job.cost().isZero();
        EscrowOperation closing = providerFault ? new EscrowOperation.Refund(reservation)
                : new EscrowOperation.Settle(reservation, job.cost());
        // One already on its way (sent before a crash) is recorded on the job just the same.
        return escrow.submit(closing)
                .map(EscrowSubmission::transaction)
                .flatMap(sent -> jobs.setSettlementTx(job.jobId(), sent.hash())
                        .then(jobs.addEvent(job.jobId(), clock.instant(), providerFault
                                ? "refund_submitted" : "settlement_submitted", sent.hash())))
                .doOnSuccess(done -> log.warn("Job {} had ended without its escrow closed: {} submitted",
                        job.jobId(), closing.purpose()))
                // A settlement the escrow refuses: its payer may have reclaimed the deposit after the deadline.
                .onErrorResume(error -> recordClosing(job, reservation).then(Mono.error(error)));
    }

    private Mono<Void> recordClosing(Job job, Reservation reservation) {
        Mono<Void> byUs = Flux.concat(escrow.findLive(reservation.reservationId(), EscrowOperation.SETTLE_PURPOSE),
                        escrow.findLive(reservation.reservationId(), EscrowOperation.REFUND_PURPOSE))
                .filter(sent -> sent.status() == ChainTransaction.Status.CONFIRMED && !sent.hash().equals(job.settlementTx()))
                .next()
                .flatMap(sent -> jobs.setSettlementTx(job.jobId(), sent.hash()));
        return reclaims.recordIfReclaimed(reservation)
                .flatMap(reclaim -> jobs.setSettlementTx(job.jobId(), reclaim.txHash())
                        .then(jobs.addEvent(job.jobId(), clock.instant(), "escrow_reclaimed", "the payer took the whole "
                                + "deposit back on chain after the escrow deadline (" + reclaim.txHash() + "); nothing "
                                + "was paid to the seller")))
                .switchIfEmpty(byUs);
    }
}
