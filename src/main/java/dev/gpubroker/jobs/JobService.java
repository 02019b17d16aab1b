package dev.gpubroker.jobs;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.springframework.stereotype.Service;
import org.springframework.transaction.reactive.TransactionalOperator;

import dev.gpubroker.config.BrokerProperties;
import dev.gpubroker.market.ComputeProvider;
import dev.gpubroker.market.LogPage;
import dev.gpubroker.market.ProviderCatalog;
import dev.gpubroker.market.QuoteService;
import dev.gpubroker.money.PricePerGpuHour;
import dev.gpubroker.money.Usdc;
import dev.gpubroker.payments.EscrowGuard;
import dev.gpubroker.payments.RunCover;
import dev.gpubroker.platform.database.ReadCaches;
import dev.gpubroker.platform.database.ReadThroughCache;
import dev.gpubroker.platform.idempotency.IdempotentCommand;
import dev.gpubroker.policy.PolicyService;
import dev.gpubroker.scheduler.Reservation;
import dev.gpubroker.scheduler.ReservationMove;
import dev.gpubroker.scheduler.ReservationService;
import dev.gpubroker.scheduler.ReservationState;
import dev.gpubroker.scheduler.Reservations;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Runs a job on a paid reservation (one job per reservation, one per idempotency key), answers its status and
 * output, and cancels it. The environment is handed to the provider and never stored or echoed.
 */
@Service
public class JobService {

    private final JobRepository jobs;
    private final ReservationService reservationService;
    private final Reservations reservations;
    private final QuoteService quotes;
    private final PolicyService policies;
    private final ProviderCatalog providers;
    private final JobEngine engine;
    private final JobSteps steps;
    private final TransactionalOperator transaction;
    private final Clock clock;
    private final EscrowGuard escrow;
    private final Duration settleMargin;
    private final RunAdmission admission;
    private final Heartbeats heartbeats;
    /** What job_status reads, by job: from memory while none of its tables changed on this instance (see status). */
    private final ReadThroughCache<String, JobRepository.JobWithEvents> statusReads;

    public JobService(JobRepository jobs, ReservationService reservationService, Reservations reservations,
            QuoteService quotes, PolicyService policies, ProviderCatalog providers, JobEngine engine, JobSteps steps,
            TransactionalOperator transaction,
            Clock clock, EscrowGuard escrow, BrokerProperties properties, RunAdmission admission, Heartbeats heartbeats,
            ReadCaches caches) {
        this.statusReads = caches.create("job_status", 10_000, List.of("jobs", "reservations", "job_events"));
        this.heartbeats = heartbeats;
        this.escrow = escrow;
        this.settleMargin = properties.jobs().escrowDeadlineMargin();
        this.admission = admission;
        this.jobs = jobs;
        this.reservationService = reservationService;
        this.reservations = reservations;
        this.quotes = quotes;
        this.policies = policies;
        this.providers = providers;
        this.engine = engine;
        this.steps = steps;
        this.transaction = transaction;
        this.clock = clock;
    }

    public Mono<RunOutcome> run(String agentId, String reservationId, List<String> command, String image,
            Map<String, String> environment, Integer maxDurationMinutes, Integer heartbeatSeconds, String idempotencyKey) {
        IdempotentCommand<Job, RunOutcome> run = IdempotentCommand.keyedBy(
                () -> jobs.findByIdempotencyKey(agentId, idempotencyKey), existing -> replay(existing, reservationId));
        return run.run(() -> policies.spendingBlocked(agentId).flatMap(blocked -> blocked.isPresent()
                ? Mono.just(refused(blocked.get().wireCode(), blocked.get().message(), null, "ask the operator"))
                : admission.refusal(agentId, reservationId, command, image, environment)
                        .switchIfEmpty(Mono.defer(() -> start(agentId, reservationId, command, image, environment,
                                maxDurationMinutes, heartbeatSeconds, idempotencyKey, run)))));
    }

    private RunOutcome replay(Job existing, String reservationId) {
        if (!existing.reservationId().equals(reservationId)) {
            return refused("idempotency_key_reused", "this idempotencyKey already started job " + existing.jobId()
                    + " on reservation " + existing.reservationId(), "idempotencyKey", "use a new idempotencyKey");
        }
        return new RunOutcome.Started(existing, true);
    }

    private Mono<RunOutcome> start(String agentId, String reservationId, List<String> command, String image,
            Map<String, String> environment, Integer maxDurationMinutes, Integer heartbeatSeconds, String idempotencyKey,
            IdempotentCommand<Job, RunOutcome> run) {
        return reservationService.findForAgent(agentId, reservationId)
                .flatMap(reservation -> {
                    if (reservation.state() == ReservationState.REFUNDING || reservation.cancelRequested()
                            && reservation.state() == ReservationState.PAID) {
                        return Mono.just(refused("reservation_cancelled", "reservation " + reservationId + " is being "
                                + "cancelled; its deposit is refunded in full", "reservationId",
                                "call account to see the refund; quote, reserve and pay again to run"));
                    }
                    if (reservation.state() != ReservationState.PAID) {
                        return jobs.findByReservation(reservationId)
                                .map(other -> refused("job_exists", "reservation " + reservationId + " already runs job "
                                        + other.jobId(), "reservationId", "call job_status with " + other.jobId()))
                                .defaultIfEmpty(refused("not_paid", "reservation " + reservationId + " is "
                                        + reservation.state().wireName() + "; only a paid reservation can run a job",
                                        "reservationId", reservation.state() == ReservationState.HELD
                                                ? "call pay first" : "call quote, reserve and pay again"));
                    }
                    int paidMinutes = reservation.durationMinutes();
                    if (maxDurationMinutes != null && maxDurationMinutes > paidMinutes) {
                        return Mono.just(refused("over_paid_duration", "maxDurationMinutes " + maxDurationMinutes
                                + " is longer than the " + paidMinutes + " minutes paid for", "maxDurationMinutes",
                                "ask for at most " + paidMinutes + " minutes"));
                    }
                    Duration maxDuration = Duration.ofMinutes(maxDurationMinutes == null ? paidMinutes : maxDurationMinutes);
                    return escrow.coverFor(reservation, maxDuration, settleMargin).flatMap(cover -> switch (cover) {
                        case RunCover.DeadlineTooClose tooClose -> Mono.just(refused("escrow_deadline_too_close",
                                "a run of " + maxDuration.toMinutes() + " minutes starting now, plus "
                                        + settleMargin.toMinutes() + " minutes to settle it, would end at "
                                        + tooClose.runEndsBy() + ", after this reservation's escrow deadline "
                                        + tooClose.escrowDeadline() + " (from then on the deposit can be reclaimed, and "
                                        + "the seller could not be paid)", "reservationId",
                                "ask for a shorter maxDurationMinutes, or cancel this reservation for a full refund and "
                                        + "reserve again"));
                        case RunCover.NotInEscrow notInEscrow -> Mono.just(refused("escrow_not_open", "the escrow does "
                                + "not hold this reservation's deposit (" + notInEscrow.escrowState() + "); nothing can "
                                + "be billed against it", "reservationId", "call account to see where the money is; "
                                + "quote, reserve and pay again to run"));
                        case RunCover.Covered covered -> startCovered(agentId, reservation, command, image, environment,
                                maxDuration, heartbeatSeconds, idempotencyKey, run);
                    });
                })
                .switchIfEmpty(Mono.fromSupplier(() -> refused("reservation_not_found", "no reservation " + reservationId
                        + " exists for this agent", "reservationId", "use a reservationId from reserve or account")));
    }

    private Mono<RunOutcome> startCovered(String agentId, Reservation reservation, List<String> command, String image,
            Map<String, String> environment, Duration maxDuration, Integer heartbeatSeconds, String idempotencyKey,
            IdempotentCommand<Job, RunOutcome> run) {
        String reservationId = reservation.reservationId();
        return quotes.findById(reservation.quoteId()).flatMap(quote -> launch(new Job(
                "job_" + UUID.randomUUID().toString().replace("-", ""), reservationId, agentId,
                idempotencyKey, reservation.provider(), command, image, maxDuration.toSeconds(),
                JobState.LAUNCHING, null, null, null, 0, Usdc.ZERO, Usdc.ZERO, null, clock.instant(),
                heartbeatSeconds, null, 1, quote.price(), !environment.isEmpty(), List.of(), false, null),
                reservation, environment, run));
    }

    /** Claims the paid reservation for the job (one job per reservation, per key) and hands it to the job engine. */
    private Mono<RunOutcome> launch(Job job, Reservation reservation, Map<String, String> environment,
            IdempotentCommand<Job, RunOutcome> run) {
        String reservationId = reservation.reservationId();
        // Conditional on nobody having asked to cancel the reservation: a cancel marks it before it refunds, so a
        // reservation whose refund is decided can never start a job, and one whose job started is never refunded whole.
        Instant leaseUntil = engine.newJobLeaseUntil();
        Mono<Boolean> claimed = reservations.startRunning(reservationId, "job " + job.jobId(), clock.instant())
                .map(ReservationMove::moved)
                .flatMap(moved -> moved ? jobs.insert(job, engine.holder(), leaseUntil).then(jobs.addEvent(job.jobId(), clock.instant(), "launching",
                        "asking " + job.provider() + " to start it")).thenReturn(true) : Mono.just(false));
        return transaction.transactional(claimed)
                .flatMap(started -> {
                    if (!started) {
                        return run.replayed()
                                .switchIfEmpty(Mono.defer(() -> reservations.findById(reservationId)
                                        .map(now -> now.state() == ReservationState.RUNNING
                                                ? refused("job_exists", "reservation " + reservationId
                                                        + " already runs a job", "reservationId", "call account")
                                                : refused("reservation_cancelled", "reservation " + reservationId
                                                        + " was cancelled (" + now.state().wireName() + "); its deposit "
                                                        + "is refunded in full", "reservationId",
                                                        "call account to see the refund; quote, reserve and pay again"))));
                    }
                    engine.launchNew(job, environment, leaseUntil);
                    return Mono.just((RunOutcome) new RunOutcome.Started(job, false));
                });
    }

    public Mono<Job> findByReservation(String reservationId) {
        return jobs.findByReservation(reservationId);
    }

    /** For the operator: any agent's job. */
    public Mono<Job> find(String jobId) {
        return jobs.findById(jobId);
    }

    public Flux<Job> list(String agentId, JobState state, int limit, int offset) {
        return jobs.list(agentId, state, limit, offset);
    }

    /** The agent's own job, or empty (another agent's job looks like no job). Counts as the agent's heartbeat. */
    public Mono<Job> find(String agentId, String jobId) {
        return jobs.findById(jobId).filter(job -> job.agentId().equals(agentId))
                .flatMap(job -> heartbeats.beat(job).thenReturn(job));
    }

    /**
     * The dead-man switch: stops the jobs whose agents stopped sending heartbeats. A heartbeat is written at most once
     * per {@link Heartbeats#WRITE_INTERVAL}, so a job is silent only once that much more has passed.
     */
    public Mono<Void> stopSilentJobs() {
        return jobs.findSilent(clock.instant().minus(Heartbeats.WRITE_INTERVAL), 100)
                .concatMap(job -> jobs.addEvent(job.jobId(), clock.instant(), "dead_man_switch", "no heartbeat from the agent "
                                + "for more than " + job.heartbeatSeconds() + " s (job_status, job_logs or cancel): stopping it")
                        .then(cancel(job)))
                .then();
    }

    public Flux<Job.Event> events(String jobId) {
        return jobs.events(jobId);
    }

    /** The job with its meter: counted up to now while it runs, the final bill once it ended. */
    public Mono<JobSnapshot> snapshot(Job job) {
        Mono<List<Job.Event>> events = jobs.events(job.jobId()).collectList();
        if (job.state().isFinal()) {
            // The escrow is closed once its settlement or refund is confirmed: the reservation then says so.
            Mono<Boolean> escrowClosed = job.settlementTx() == null ? Mono.just(false)
                    : reservations.findById(job.reservationId())
                            .map(reservation -> escrowClosed(reservation.state()))
                            .defaultIfEmpty(false);
            return Mono.zip(events, escrowClosed, (found, closed) -> new JobSnapshot(job, job.gpuSeconds(), job.cost(),
                    job.refund(), found, closed));
        }
        if (job.state() != JobState.RUNNING || job.startedAt() == null) {
            return events.map(found -> new JobSnapshot(job, job.gpuSeconds(), job.cost(), job.refund(), found, false));
        }
        return reservations.findById(job.reservationId())
                .flatMap(reservation -> steps.priceOf(job, reservation)
                        .map(price -> metered(job, price, reservation.gpuCount(), reservation.amount(), List.of())))
                .zipWith(events, (meter, found) -> new JobSnapshot(job, meter.gpuSeconds(), meter.cost(), meter.refund(),
                        found, false));
    }

    /**
     * What {@code job_status} shows: the agent's own job with its meter and events, read in one statement (three
     * before), counting as the agent's heartbeat. Empty when the job is unknown or another agent's. The statement's
     * answer is kept in memory while none of its tables changed on this instance, for at most
     * {@code gpubroker.database.read-cache-ttl} (another instance's writes show within it); the meter is counted now.
     */
    public Mono<JobSnapshot> status(String agentId, String jobId) {
        return statusReads.read(jobId, () -> jobs.findWithEvents(jobId))
                .filter(found -> found.job().agentId().equals(agentId))
                .flatMap(found -> heartbeats.beat(found.job()).then(Mono.defer(() -> {
                    Job job = found.job();
                    if (job.state().isFinal()) {
                        return Mono.just(new JobSnapshot(job, job.gpuSeconds(), job.cost(), job.refund(), found.events(),
                                job.settlementTx() != null && escrowClosed(found.reservationState())));
                    }
                    if (job.state() != JobState.RUNNING || job.startedAt() == null) {
                        return Mono.just(new JobSnapshot(job, job.gpuSeconds(), job.cost(), job.refund(), found.events(),
                                false));
                    }
                    if (job.price() == null) {
                        // Jobs from before failover existed take their price from the quote: the general path.
                        return snapshot(job);
                    }
                    return Mono.just(metered(job, job.price(), found.reservationGpuCount(), found.reservationAmount(),
                            found.events()));
                })));
    }

    /** A running job's meter now: GPU-seconds since it started, their cost (never more than escrowed), the rest. */
    private JobSnapshot metered(Job job, PricePerGpuHour price, int gpuCount, Usdc escrowed, List<Job.Event> events) {
        long gpuSeconds = Metering.gpuSeconds(job.startedAt(), clock.instant(), gpuCount);
        Usdc cost = Metering.cost(price, gpuSeconds, escrowed);
        return new JobSnapshot(job, gpuSeconds, cost, escrowed.minus(cost), events, false);
    }

    /** The escrow is closed once its settlement or refund is confirmed: the reservation then says so. */
    private static boolean escrowClosed(ReservationState reservation) {
        return reservation == ReservationState.SETTLED || reservation == ReservationState.REFUNDED;
    }

    /**
     * The cursor of a reader who has read nothing yet of a job that has printed nothing yet. There is no attempt 0, so
     * by the rule in {@link #logs} it reads the current attempt's output from its start, whichever attempt that is then.
     */
    static final String FROM_THE_START = "0.0";

    /**
     * A page of the job's output. {@code nextCursor} is null only at the end: the job is final here and its provider
     * has handed out its last line, or has no output of it at all. Until then there is always a cursor to read on
     * with, also while the job is still launching (no output yet) and between its end at the provider and this
     * broker's record of that end, which may be a failover to another attempt with more output to come.
     */
    public Mono<LogPage> logs(Job job, String cursor, int limit) {
        ComputeProvider provider = providers.find(job.provider()).orElse(null);
        if (provider == null) {
            return Mono.just(new LogPage(List.of(), null));
        }
        // After a failover the output is the current attempt's; a cursor into an earlier attempt's output reads the
        // current one from its start. Cursors carry their attempt ("2.40") once there is more than one.
        String providerCursor = null;
        if (cursor != null) {
            int dot = cursor.indexOf('.');
            int cursorAttempt = dot < 0 ? 1 : Integer.parseInt(cursor.substring(0, dot));
            providerCursor = cursorAttempt == job.attempt() ? cursor.substring(dot + 1) : null;
        }
        return provider.logs(job.providerJobId(), providerCursor, limit).map(page -> {
            if (page.complete() && job.state().isFinal()) {
                return new LogPage(page.lines(), null);
            }
            if (page.nextCursor() == null) {
                // No output at the provider yet: read on from where this reader is.
                return new LogPage(page.lines(), cursor == null ? FROM_THE_START : cursor);
            }
            return new LogPage(page.lines(), job.attempt() == 1 ? page.nextCursor() : job.attempt() + "." + page.nextCursor());
        });
    }

    /** Stops a running job; the job engine then sees it stopped, bills what was used and refunds the rest. */
    public Mono<Job> cancel(Job job) {
        if (job.state().isFinal()) {
            return Mono.just(job);
        }
        ComputeProvider provider = providers.find(job.provider()).orElse(null);
        // Marked first: a launch still under way (the first, or after a failover) stops the job as soon as it exists.
        return jobs.requestCancel(job.jobId(), clock.instant())
                .then(provider == null ? Mono.<Void>empty() : provider.terminate(job.providerJobId()))
                .then(jobs.addEvent(job.jobId(), clock.instant(), "cancel_requested", "the agent asked to stop it"))
                .then(jobs.findById(job.jobId()));
    }

    private static RunOutcome refused(String code, String message, String field, String nextStep) {
        return new RunOutcome.Refused(code, message, field, nextStep);
    }
}
