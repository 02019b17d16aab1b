package dev.gpubroker.jobs;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Repository;

import dev.gpubroker.money.PricePerGpuHour;
import dev.gpubroker.money.Usdc;
import dev.gpubroker.platform.database.Binds;
import dev.gpubroker.platform.database.Columns;
import dev.gpubroker.platform.database.NewestFirst;
import dev.gpubroker.platform.database.StateCounts;
import dev.gpubroker.scheduler.ReservationState;
import io.r2dbc.spi.Readable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

@Repository
class JobRepository {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final DatabaseClient db;

    JobRepository(DatabaseClient db) {
        this.db = db;
    }

    /**
     * A new job, leased to {@code leaseHolder} until {@code leaseUntil}, its launch due only then: the instance that
     * took the run call launches it at once, itself (it alone holds the environment values), and no claim, not even its
     * own engine's, can take the launch first; another instance takes it only once that lease ran out.
     */
    public Mono<Void> insert(Job job, String leaseHolder, Instant leaseUntil) {
        var spec = db.sql("""
                        INSERT INTO jobs (job_id, reservation_id, agent_id, idempotency_key, provider, command, image,
                            max_duration_seconds, state, created_at, updated_at, heartbeat_seconds, last_heartbeat_at,
                            attempt, price_micros_per_gpu_hour, has_environment, step, step_due_at, lease_holder, lease_until)
                        VALUES (:id, :r, :a, :key, :provider, :command, :image, :max, :state, :at, :at, :heartbeat, :at,
                            1, :price, :hasEnv, 'launch', :until, :holder, :until)""")
                .bind("holder", leaseHolder).bind("until", leaseUntil.atOffset(ZoneOffset.UTC))
                .bind("id", job.jobId()).bind("r", job.reservationId()).bind("a", job.agentId())
                .bind("key", job.idempotencyKey()).bind("provider", job.provider())
                .bind("command", JSON.writeValueAsString(job.command())).bind("max", job.maxDurationSeconds())
                .bind("state", job.state().name()).bind("at", job.createdAt().atOffset(ZoneOffset.UTC))
                .bind("price", job.price().microsPerGpuHour()).bind("hasEnv", job.hasEnvironment());
        spec = Binds.nullable(spec, "heartbeat", job.heartbeatSeconds(), Integer.class);
        return Binds.nullable(spec, "image", job.image(), String.class).fetch().rowsUpdated().then();
    }

    public Mono<Job> findById(String jobId) {
        return db.sql("SELECT * FROM jobs WHERE job_id = :id").bind("id", jobId).map(JobRepository::toJob).one();
    }

    public Mono<Job> findByIdempotencyKey(String agentId, String key) {
        return db.sql("SELECT * FROM jobs WHERE agent_id = :a AND idempotency_key = :k").bind("a", agentId).bind("k", key)
                .map(JobRepository::toJob).one();
    }

    public Mono<Job> findByReservation(String reservationId) {
        return db.sql("SELECT * FROM jobs WHERE reservation_id = :r").bind("r", reservationId).map(JobRepository::toJob).one();
    }

    public Flux<Job> list(String agentId, JobState state, int limit, int offset) {
        Map<String, Object> filters = new LinkedHashMap<>();
        filters.put("agent_id", agentId);
        filters.put("state", state == null ? null : state.name());
        return NewestFirst.page(db, "jobs", "1 = 1", filters, limit, offset).map(JobRepository::toJob).all();
    }

    /**
     * What the broker metered at one provider for the jobs that started running in {@code [from, to)}: how many, their
     * GPU-seconds and what their agents were billed (each job rounded up to the micro-USDC, as its bill was).
     */
    public Mono<MeteredUsage> meteredAt(String provider, Instant from, Instant to) {
        return db.sql("SELECT gpu_seconds, price_micros_per_gpu_hour FROM jobs WHERE provider = :p "
                        + "AND started_at >= :from AND started_at < :to")
                .bind("p", provider).bind("from", from.atOffset(ZoneOffset.UTC)).bind("to", to.atOffset(ZoneOffset.UTC))
                .map(row -> {
                    long gpuSeconds = Columns.longValue(row, "gpu_seconds");
                    Number price = row.get("price_micros_per_gpu_hour", Number.class);
                    long cost = price == null ? 0 : Math.ceilDiv(Math.multiplyExact(price.longValue(), gpuSeconds), 3600L);
                    return new MeteredUsage(1, gpuSeconds, cost);
                })
                .all()
                .reduce(new MeteredUsage(0, 0, 0), MeteredUsage::plus);
    }

    /** Jobs, their GPU-seconds and what their agents were billed, in micro-USDC. */
    public record MeteredUsage(long jobs, long gpuSeconds, long billedMicros) {

        MeteredUsage plus(MeteredUsage other) {
            return new MeteredUsage(jobs + other.jobs, Math.addExact(gpuSeconds, other.gpuSeconds),
                    Math.addExact(billedMicros, other.billedMicros));
        }
    }

    /** Jobs that ended but whose escrow was never settled or refunded (a crash fell between the two). */
    public Flux<Job> findEndedUnsettled(int limit) {
        // Also those whose settlement or refund failed on chain: the escrow may have been reclaimed meanwhile.
        return db.sql("SELECT * FROM jobs WHERE state IN ('COMPLETED', 'FAILED', 'CANCELLED') AND (settlement_tx IS NULL "
                        + "OR settlement_tx IN (SELECT tx_hash FROM chain_transactions WHERE status IN ('REVERTED', 'REJECTED'))) "
                        + "ORDER BY updated_at LIMIT :limit")
                .bind("limit", limit).map(JobRepository::toJob).all();
    }

    public Mono<Void> heartbeat(String jobId, Instant at) {
        return db.sql("UPDATE jobs SET last_heartbeat_at = :at WHERE job_id = :id AND heartbeat_seconds IS NOT NULL")
                .bind("at", at.atOffset(ZoneOffset.UTC)).bind("id", jobId).fetch().rowsUpdated().then();
    }

    /** Running jobs whose agent has been silent for longer than the heartbeat interval it asked for. */
    public Flux<Job> findSilent(Instant now, int limit) {
        return db.sql("SELECT * FROM jobs WHERE state = 'RUNNING' AND heartbeat_seconds IS NOT NULL ORDER BY last_heartbeat_at "
                        + "LIMIT :limit")
                .bind("limit", limit).map(JobRepository::toJob).all()
                .filter(job -> job.lastHeartbeatAt().plusSeconds(job.heartbeatSeconds()).isBefore(now));
    }

    /**
     * Open jobs whose next step is due and that are free for {@code holder}: leased to nobody, leased to it, or leased
     * to an instance whose lease ran out. Locked for this transaction; rows another instance's claim holds locked are
     * skipped ({@code SKIP LOCKED}, the same on H2 and PostgreSQL). Must run in one transaction with {@link #lease}.
     */
    public Flux<DueJob> findDueForUpdate(String holder, Instant now, int limit) {
        return db.sql("SELECT job_id, lease_holder FROM jobs WHERE state IN ('LAUNCHING', 'RUNNING') AND step_due_at <= :now "
                        + "AND (lease_until IS NULL OR lease_until < :now OR lease_holder = :holder) "
                        + "ORDER BY step_due_at LIMIT :limit FOR UPDATE SKIP LOCKED")
                .bind("now", now.atOffset(ZoneOffset.UTC)).bind("holder", holder).bind("limit", limit)
                .map(row -> new DueJob(row.get("job_id", String.class), row.get("lease_holder", String.class))).all();
    }

    /** A due job and who held it last (null: nobody yet). */
    public record DueJob(String jobId, String previousHolder) {
    }

    /** Leases these jobs to {@code holder} until {@code until}, those still free for it. */
    public Mono<Long> lease(List<String> jobIds, String holder, Instant now, Instant until) {
        return db.sql("UPDATE jobs SET lease_holder = :holder, lease_until = :until WHERE job_id IN (:ids) "
                        + "AND (lease_until IS NULL OR lease_until < :now OR lease_holder = :holder)")
                .bind("holder", holder).bind("until", until.atOffset(ZoneOffset.UTC)).bind("ids", jobIds)
                .bind("now", now.atOffset(ZoneOffset.UTC)).fetch().rowsUpdated();
    }

    /** The jobs {@code holder} holds a lease on, among these, with the step each is at. */
    public Flux<LeasedJob> findLeased(List<String> jobIds, String holder) {
        return db.sql("SELECT * FROM jobs WHERE job_id IN (:ids) AND lease_holder = :holder")
                .bind("ids", jobIds).bind("holder", holder)
                .map(row -> new LeasedJob(toJob(row), JobStep.valueOf(row.get("step", String.class).toUpperCase(
                        java.util.Locale.ROOT)), Columns.instant(row, "lease_until"), false))
                .all();
    }

    /** Keeps the lease for a step that takes longer (a launch); false when it was lost meanwhile. */
    public Mono<Boolean> extendLease(String jobId, String holder, Instant until) {
        return db.sql("UPDATE jobs SET lease_until = :until WHERE job_id = :id AND lease_holder = :holder")
                .bind("until", until.atOffset(ZoneOffset.UTC)).bind("id", jobId).bind("holder", holder)
                .fetch().rowsUpdated().map(rows -> rows == 1);
    }

    /**
     * The step is done: the next one is due at {@code due}, and {@code holder} keeps the job until {@code until} (past
     * {@code due}: when it does not come back for the step, because it died, another instance takes the job then).
     */
    public Mono<Void> renewLease(String jobId, String holder, Instant due, Instant until) {
        return db.sql("UPDATE jobs SET step_due_at = :due, lease_until = :until WHERE job_id = :id AND lease_holder = :holder")
                .bind("due", due.atOffset(ZoneOffset.UTC)).bind("until", until.atOffset(ZoneOffset.UTC))
                .bind("id", jobId).bind("holder", holder)
                .fetch().rowsUpdated().then();
    }

    /**
     * A clean stop: every job {@code holder} holds is free for the other instances at once (the holder stays written,
     * so that the next one knows it takes the job over).
     */
    public Mono<Long> releaseLeases(String holder) {
        return db.sql("UPDATE jobs SET lease_until = NULL WHERE lease_holder = :holder "
                        + "AND state IN ('LAUNCHING', 'RUNNING')")
                .bind("holder", holder).fetch().rowsUpdated();
    }

    /** The attempt was launched: from now on the job is followed (its status polled). */
    public Mono<Boolean> launched(String jobId, int attempt) {
        return db.sql("UPDATE jobs SET step = 'follow' WHERE job_id = :id AND attempt = :attempt AND step = 'launch'")
                .bind("id", jobId).bind("attempt", attempt).fetch().rowsUpdated().map(rows -> rows == 1);
    }

    /**
     * An open job and the step it is at, leased to this instance until {@code leaseUntil}; {@code takenOver}: another
     * holder (an instance that stopped or died, or this server before a restart) had it before.
     */
    public record LeasedJob(Job job, JobStep step, Instant leaseUntil, boolean takenOver) {

        public LeasedJob withTakenOver(boolean over) {
            return new LeasedJob(job, step, leaseUntil, over);
        }
    }

    /** The persisted steps of an open job. */
    public enum JobStep {
        LAUNCH, FOLLOW
    }

    /** Running from {@code startedAt}, for this attempt only: a late signal of an attempt a failover left changes nothing. */
    /**
     * The attempt runs, metered from {@code startedAt}; {@code seenRunningAt}: when its provider was asked and said it
     * runs (null when it said the attempt had already ended).
     */
    public Mono<Boolean> markRunning(String jobId, int attempt, Instant startedAt, Instant seenRunningAt) {
        return Binds.nullable(db.sql("UPDATE jobs SET state = 'RUNNING', started_at = :s, updated_at = :s, "
                                + "seen_running_at = :seen WHERE job_id = :id AND attempt = :attempt AND state IN "
                                + from(JobState.RUNNING))
                        .bind("s", startedAt.atOffset(ZoneOffset.UTC)).bind("id", jobId).bind("attempt", attempt),
                        "seen", seenRunningAt == null ? null : seenRunningAt.atOffset(ZoneOffset.UTC), OffsetDateTime.class)
                .fetch().rowsUpdated().map(rows -> rows == 1);
    }

    /** Its provider, asked at {@code at}, said the running attempt still runs: its end cannot be before that. */
    public Mono<Void> seenRunning(String jobId, int attempt, Instant at) {
        return db.sql("UPDATE jobs SET seen_running_at = :at WHERE job_id = :id AND attempt = :attempt "
                        + "AND state = 'RUNNING' AND (seen_running_at IS NULL OR seen_running_at < :at)")
                .bind("at", at.atOffset(ZoneOffset.UTC)).bind("id", jobId).bind("attempt", attempt)
                .fetch().rowsUpdated().then();
    }

    /** Ends a job once, from LAUNCHING or RUNNING, with what it used and cost. */
    public Mono<Boolean> end(String jobId, JobState state, Instant endedAt, Integer exitCode, long gpuSeconds, Usdc cost,
            Usdc refund) {
        if (!state.isFinal()) {
            throw new IllegalArgumentException("a job ends in a final state, not " + state);
        }
        var spec = db.sql("UPDATE jobs SET state = :state, ended_at = :e, exit_code = :code, gpu_seconds = :gs, "
                        + "cost_micros = :cost, refund_micros = :refund, updated_at = :e "
                        + "WHERE job_id = :id AND state IN " + from(state))
                .bind("state", state.name()).bind("e", endedAt.atOffset(ZoneOffset.UTC)).bind("gs", gpuSeconds)
                .bind("cost", cost.micros()).bind("refund", refund.micros()).bind("id", jobId);
        return Binds.nullable(spec, "code", exitCode, Integer.class).fetch().rowsUpdated().map(rows -> rows == 1);
    }

    /**
     * Moves an open job to its next attempt at another provider, back to LAUNCHING (its GPU time restarts from zero:
     * the faulted attempt is never billed). False when the job ended or moved meanwhile.
     */
    public Mono<Boolean> failOver(String jobId, int fromAttempt, String faultedProvider, String provider,
            PricePerGpuHour price, Instant at) {
        return db.sql("UPDATE jobs SET state = 'LAUNCHING', step = 'launch', started_at = NULL, seen_running_at = NULL, "
                        + "attempt = attempt + 1, "
                        + "provider = :provider, "
                        + "price_micros_per_gpu_hour = :price, updated_at = :at, faulted_providers = CASE "
                        + "WHEN faulted_providers = '' THEN :faulted ELSE faulted_providers || ',' || :faulted END "
                        + "WHERE job_id = :id AND attempt = :attempt AND state IN " + from(JobState.LAUNCHING) + " "
                        + "AND cancel_requested = FALSE")
                .bind("provider", provider).bind("price", price.microsPerGpuHour()).bind("at", at.atOffset(ZoneOffset.UTC))
                .bind("faulted", faultedProvider).bind("id", jobId).bind("attempt", fromAttempt)
                .fetch().rowsUpdated().map(rows -> rows == 1);
    }

    /**
     * Marks a cancel, so that a launch still under way (first or after a failover) stops the job as soon as it runs,
     * and makes the job's next step due now: the instance holding the job stops it at the provider, whichever instance
     * took the cancel.
     */
    public Mono<Void> requestCancel(String jobId, Instant at) {
        return db.sql("UPDATE jobs SET cancel_requested = TRUE, step_due_at = :at WHERE job_id = :id")
                .bind("at", at.atOffset(ZoneOffset.UTC)).bind("id", jobId)
                .fetch().rowsUpdated().then();
    }

    public Mono<Void> setSettlementTx(String jobId, String txHash) {
        return db.sql("UPDATE jobs SET settlement_tx = :tx WHERE job_id = :id").bind("tx", txHash).bind("id", jobId)
                .fetch().rowsUpdated().then();
    }

    public Mono<Void> addEvent(String jobId, Instant at, String kind, String detail) {
        return db.sql("INSERT INTO job_events (job_id, recorded_at, kind, detail) VALUES (:id, :at, :kind, :detail)")
                .bind("id", jobId).bind("at", at.atOffset(ZoneOffset.UTC)).bind("kind", kind)
                .bind("detail", detail.length() > 400 ? detail.substring(0, 400) : detail)
                .fetch().rowsUpdated().then();
    }

    /**
     * A job with its events and what job_status needs of its reservation (the GPU count and the amount in escrow for
     * the meter, its state for whether the escrow is closed), in one read. Empty for an unknown job.
     */
    public Mono<JobWithEvents> findWithEvents(String jobId) {
        // One row per event: the job (its command parsed from JSON) is read from the first row only.
        return Mono.defer(() -> {
            JobWithEvents[] first = {null};
            List<Job.Event> events = new ArrayList<>();
            return db.sql("""
                            SELECT j.*, r.gpu_count AS reservation_gpu_count, r.amount_micros AS reservation_amount_micros,
                                r.state AS reservation_state,
                                e.recorded_at AS event_recorded_at, e.kind AS event_kind, e.detail AS event_detail
                            FROM jobs j JOIN reservations r ON r.reservation_id = j.reservation_id
                            LEFT JOIN job_events e ON e.job_id = j.job_id
                            WHERE j.job_id = :id ORDER BY e.event_id""")
                    .bind("id", jobId)
                    .map(row -> {
                        if (first[0] == null) {
                            first[0] = new JobWithEvents(toJob(row), Columns.intValue(row, "reservation_gpu_count"),
                                    Usdc.ofMicros(Columns.longValue(row, "reservation_amount_micros")),
                                    ReservationState.valueOf(row.get("reservation_state", String.class)), List.of());
                        }
                        if (row.get("event_kind", String.class) != null) {
                            events.add(new Job.Event(Columns.instant(row, "event_recorded_at"),
                                    row.get("event_kind", String.class), row.get("event_detail", String.class)));
                        }
                        return Boolean.TRUE;
                    })
                    .all()
                    .then(Mono.fromSupplier(() -> first[0] == null ? null : new JobWithEvents(first[0].job(),
                            first[0].reservationGpuCount(), first[0].reservationAmount(), first[0].reservationState(),
                            events)));
        });
    }

    /** A job, its reservation's GPU count, amount and state, and its events in the order they happened. */
    public record JobWithEvents(Job job, int reservationGpuCount, Usdc reservationAmount,
            ReservationState reservationState, List<Job.Event> events) {

        public JobWithEvents {
            events = List.copyOf(events);
        }
    }

    public Flux<Job.Event> events(String jobId) {
        return db.sql("SELECT * FROM job_events WHERE job_id = :id ORDER BY event_id").bind("id", jobId)
                .map(row -> new Job.Event(Columns.instant(row, "recorded_at"), row.get("kind", String.class),
                        row.get("detail", String.class)))
                .all();
    }

    /** The SQL list of states a job may move to {@code to} from: the state machine decides, not this class. */
    private static String from(JobState to) {
        return JobState.sourcesOf(to).stream().map(state -> "'" + state.name() + "'")
                .collect(java.util.stream.Collectors.joining(", ", "(", ")"));
    }

    private static Job toJob(Readable row) {
        Number exit = row.get("exit_code", Number.class);
        Number price = row.get("price_micros_per_gpu_hour", Number.class);
        String faulted = row.get("faulted_providers", String.class);
        return new Job(row.get("job_id", String.class), row.get("reservation_id", String.class),
                row.get("agent_id", String.class), row.get("idempotency_key", String.class), row.get("provider", String.class),
                JSON.readValue(row.get("command", String.class), new TypeReference<List<String>>() { }),
                row.get("image", String.class), Columns.longValue(row, "max_duration_seconds"),
                JobState.valueOf(row.get("state", String.class)), Columns.instant(row, "started_at"),
                Columns.instant(row, "ended_at"), exit == null ? null : exit.intValue(), Columns.longValue(row, "gpu_seconds"),
                Usdc.ofMicros(Columns.longValue(row, "cost_micros")), Usdc.ofMicros(Columns.longValue(row, "refund_micros")),
                row.get("settlement_tx", String.class), Columns.instant(row, "created_at"),
                row.get("heartbeat_seconds", Integer.class), Columns.instant(row, "last_heartbeat_at"),
                Columns.intValue(row, "attempt"), price == null ? null : new PricePerGpuHour(price.longValue()),
                Boolean.TRUE.equals(row.get("has_environment", Boolean.class)), faulted.isEmpty() ? List.of()
                        : List.of(faulted.split(",")), Boolean.TRUE.equals(row.get("cancel_requested", Boolean.class)),
                Columns.instant(row, "seen_running_at"));
    }

    /** Jobs per state, every state present (for the operator's gauges). */
    public Mono<Map<String, Long>> countByState() {
        return StateCounts.of(db, "jobs", "state", JobState.values());
    }
}
