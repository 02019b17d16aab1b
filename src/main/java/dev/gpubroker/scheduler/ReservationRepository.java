package dev.gpubroker.scheduler;

import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.Map;

import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Repository;

import dev.gpubroker.platform.database.Binds;
import dev.gpubroker.platform.database.Columns;
import dev.gpubroker.platform.database.NewestFirst;
import dev.gpubroker.platform.database.StateCounts;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Reservations. Every state change is a conditional update from the state the caller saw, so two concurrent
 * actors (a payment and the expiry timer, say) can never both win.
 */
@Repository
class ReservationRepository {

    private final DatabaseClient db;

    ReservationRepository(DatabaseClient db) {
        this.db = db;
    }

    public Mono<Void> insert(Reservation reservation) {
        return db.sql("""
                INSERT INTO reservations (reservation_id, agent_id, idempotency_key, quote_id, state, provider, offer_id,
                    gpu_count, amount_micros, created_at, updated_at, hold_expires_at, capacity_released, duration_minutes)
                VALUES (:id, :agent, :key, :quote, :state, :provider, :offer, :gpuCount, :amount, :createdAt, :updatedAt,
                    :holdExpiresAt, FALSE, :duration)""")
                .bind("duration", reservation.durationMinutes())
                .bind("id", reservation.reservationId())
                .bind("agent", reservation.agentId())
                .bind("key", reservation.idempotencyKey())
                .bind("quote", reservation.quoteId())
                .bind("state", reservation.state().name())
                .bind("provider", reservation.provider())
                .bind("offer", reservation.offerId())
                .bind("gpuCount", reservation.gpuCount())
                .bind("amount", reservation.amount().micros())
                .bind("createdAt", reservation.createdAt().atOffset(ZoneOffset.UTC))
                .bind("updatedAt", reservation.updatedAt().atOffset(ZoneOffset.UTC))
                .bind("holdExpiresAt", reservation.holdExpiresAt().atOffset(ZoneOffset.UTC))
                .fetch().rowsUpdated().then();
    }

    public Mono<Reservation> findById(String reservationId) {
        return db.sql("SELECT * FROM reservations WHERE reservation_id = :id")
                .bind("id", reservationId)
                .map(ReservationRows::read)
                .one();
    }

    public Mono<Reservation> findByIdempotencyKey(String agentId, String idempotencyKey) {
        return db.sql("SELECT * FROM reservations WHERE agent_id = :agent AND idempotency_key = :key")
                .bind("agent", agentId)
                .bind("key", idempotencyKey)
                .map(ReservationRows::read)
                .one();
    }

    public Mono<Long> countOpen(String agentId) {
        return db.sql("SELECT COUNT(*) AS n FROM reservations WHERE agent_id = :agent "
                        + "AND state IN ('PENDING_HOLD', 'HELD', 'APPROVAL_REQUIRED', 'PAID', 'REFUNDING', 'RUNNING')")
                .bind("agent", agentId)
                .map(row -> Columns.longValue(row, "n"))
                .one();
    }

    /** Moves a reservation from one state to another; true when this call made the move. */
    public Mono<Boolean> transition(String reservationId, ReservationState from, ReservationState to, String reason,
            Instant at) {
        if (!from.canMoveTo(to)) {
            return Mono.error(new IllegalTransitionException(reservationId, from, to));
        }
        return Binds.nullable(db.sql("UPDATE reservations SET state = :to, state_reason = :reason, updated_at = :at "
                                + "WHERE reservation_id = :id AND state = :from")
                        .bind("to", to.name())
                        .bind("at", at.atOffset(ZoneOffset.UTC))
                        .bind("id", reservationId)
                        .bind("from", from.name()), "reason", reason, String.class)
                .fetch().rowsUpdated()
                .map(rows -> rows == 1);
    }

    /** Claims a held reservation for one payment; false when it is not held, another payment has it, or it is being cancelled. */
    public Mono<Boolean> claimForPayment(String reservationId, String paymentId) {
        return db.sql("UPDATE reservations SET payment_id = :p WHERE reservation_id = :id AND state = 'HELD' "
                        + "AND payment_id IS NULL AND cancel_requested = FALSE")
                .bind("p", paymentId).bind("id", reservationId)
                .fetch().rowsUpdated().map(rows -> rows == 1);
    }

    /**
     * Closes a reservation nobody is paying: held or awaiting approval, with no payment claim on it (a payment under way
     * must end first, so that its deposit is never stranded on a closed reservation). True when this call closed it.
     */
    public Mono<Boolean> closeUnpaid(String reservationId, ReservationState from, ReservationState to, String reason,
            Instant at) {
        if (from != ReservationState.HELD && from != ReservationState.APPROVAL_REQUIRED || !from.canMoveTo(to)) {
            return Mono.error(new IllegalTransitionException(reservationId, from, to));
        }
        return db.sql("UPDATE reservations SET state = :to, state_reason = :reason, updated_at = :at "
                        + "WHERE reservation_id = :id AND state = :from AND payment_id IS NULL")
                .bind("to", to.name()).bind("reason", reason).bind("at", at.atOffset(ZoneOffset.UTC))
                .bind("id", reservationId).bind("from", from.name())
                .fetch().rowsUpdated().map(rows -> rows == 1);
    }

    /**
     * Records that someone asked to cancel this reservation, before anything else of the cancel happens: a run, a
     * payment claim or a confirmation racing it sees the mark. False when the reservation is no longer open.
     */
    public Mono<Boolean> requestCancel(String reservationId, Instant at) {
        return db.sql("UPDATE reservations SET cancel_requested = TRUE, updated_at = :at WHERE reservation_id = :id "
                        + "AND state IN ('HELD', 'APPROVAL_REQUIRED', 'PAID', 'REFUNDING', 'RUNNING')")
                .bind("at", at.atOffset(ZoneOffset.UTC)).bind("id", reservationId)
                .fetch().rowsUpdated().map(rows -> rows == 1);
    }

    /**
     * PAID → RUNNING for a job, unless someone asked to cancel the reservation first (then its refund wins and no job
     * starts). True when this call made the move.
     */
    public Mono<Boolean> startRunning(String reservationId, String reason, Instant at) {
        return db.sql("UPDATE reservations SET state = 'RUNNING', state_reason = :reason, updated_at = :at "
                        + "WHERE reservation_id = :id AND state = 'PAID' AND cancel_requested = FALSE")
                .bind("reason", reason).bind("at", at.atOffset(ZoneOffset.UTC)).bind("id", reservationId)
                .fetch().rowsUpdated().map(rows -> rows == 1);
    }

    /** Open reservations in one state, oldest change first: for the sweeps that finish what a crash interrupted. */
    public Flux<Reservation> findInState(ReservationState state, int limit) {
        return db.sql("SELECT * FROM reservations WHERE state = :state ORDER BY updated_at LIMIT :limit")
                .bind("state", state.name()).bind("limit", limit)
                .map(ReservationRows::read).all();
    }

    /** Paid reservations someone asked to cancel whose refund was never decided (a crash between the two steps). */
    public Flux<Reservation> findPaidCancelRequested(int limit) {
        return db.sql("SELECT * FROM reservations WHERE state = 'PAID' AND cancel_requested = TRUE "
                        + "ORDER BY updated_at LIMIT :limit")
                .bind("limit", limit)
                .map(ReservationRows::read).all();
    }

    /**
     * Paid reservations whose escrow deadline (from their payment) has passed: from then on the payer may reclaim the
     * deposit on chain, so the broker checks whether it did.
     */
    public Flux<Reservation> findPaidPastEscrowDeadline(long nowEpochSeconds, int limit) {
        return db.sql("SELECT r.* FROM reservations r JOIN payments p ON p.payment_id = r.payment_id "
                        + "WHERE r.state IN ('PAID', 'REFUNDING', 'RUNNING') AND p.escrow_deadline < :now "
                        + "ORDER BY p.escrow_deadline LIMIT :limit")
                .bind("now", nowEpochSeconds).bind("limit", limit)
                .map(ReservationRows::read).all();
    }

    /** HELD → PAID for the payment that claimed it; true when this call made the move. */
    public Mono<Boolean> markPaid(String reservationId, String paymentId, Instant at) {
        return db.sql("UPDATE reservations SET state = 'PAID', updated_at = :at WHERE reservation_id = :id "
                        + "AND state = 'HELD' AND payment_id = :p")
                .bind("at", at.atOffset(ZoneOffset.UTC)).bind("id", reservationId).bind("p", paymentId)
                .fetch().rowsUpdated().map(rows -> rows == 1);
    }

    /** Gives the reservation back after a payment that moved nothing, so it can be paid again or expire. */
    public Mono<Void> releasePaymentClaim(String reservationId, String paymentId) {
        return db.sql("UPDATE reservations SET payment_id = NULL WHERE reservation_id = :id AND payment_id = :p AND state = 'HELD'")
                .bind("p", paymentId).bind("id", reservationId)
                .fetch().rowsUpdated().then();
    }

    /**
     * Moves a running reservation to another offer (a failover), from the hold it has now to a new one. False when the
     * reservation is no longer running on that hold (it was cancelled or moved meanwhile).
     */
    public Mono<Boolean> moveToOffer(String reservationId, String fromHoldId, String provider, String offerId,
            String holdId, Instant at) {
        return db.sql("UPDATE reservations SET provider = :provider, offer_id = :offer, hold_id = :hold, updated_at = :at "
                        + "WHERE reservation_id = :id AND state = 'RUNNING' AND COALESCE(hold_id, reservation_id) = :from")
                .bind("provider", provider).bind("offer", offerId).bind("hold", holdId)
                .bind("at", at.atOffset(ZoneOffset.UTC)).bind("id", reservationId).bind("from", fromHoldId)
                .fetch().rowsUpdated().map(rows -> rows == 1);
    }

    public Mono<Void> markCapacityReleased(String reservationId) {
        return db.sql("UPDATE reservations SET capacity_released = TRUE WHERE reservation_id = :id")
                .bind("id", reservationId)
                .fetch().rowsUpdated().then();
    }

    /** Removes a reservation that never held anything (its hold was refused or abandoned), freeing its key. */
    public Mono<Boolean> deletePending(String reservationId) {
        return db.sql("DELETE FROM reservations WHERE reservation_id = :id AND state = 'PENDING_HOLD'")
                .bind("id", reservationId)
                .fetch().rowsUpdated()
                .map(rows -> rows == 1);
    }

    public Flux<Reservation> findHeldExpiringBy(Instant now, int limit) {
        return db.sql("SELECT * FROM reservations WHERE state IN ('HELD', 'APPROVAL_REQUIRED') AND hold_expires_at <= :now "
                        + "AND payment_id IS NULL "
                        + "ORDER BY hold_expires_at LIMIT :limit")
                .bind("now", now.atOffset(ZoneOffset.UTC))
                .bind("limit", limit)
                .map(ReservationRows::read)
                .all();
    }

    public Flux<Reservation> findClosedWithCapacityHeld(int limit) {
        return db.sql("SELECT * FROM reservations WHERE state IN ('EXPIRED', 'CANCELLED', 'SETTLED', 'REFUNDED') "
                        + "AND capacity_released = FALSE "
                        + "ORDER BY updated_at LIMIT :limit")
                .bind("limit", limit)
                .map(ReservationRows::read)
                .all();
    }

    public Flux<Reservation> findPendingCreatedBefore(Instant cutoff, int limit) {
        return db.sql("SELECT * FROM reservations WHERE state = 'PENDING_HOLD' AND created_at < :cutoff "
                        + "ORDER BY created_at LIMIT :limit")
                .bind("cutoff", cutoff.atOffset(ZoneOffset.UTC))
                .bind("limit", limit)
                .map(ReservationRows::read)
                .all();
    }

    /** For the operator: reservations of one agent or all, optionally in one state, newest first. */
    public Flux<Reservation> list(String agentId, ReservationState state, int limit, int offset) {
        Map<String, Object> filters = new LinkedHashMap<>();
        filters.put("agent_id", agentId);
        filters.put("state", state == null ? null : state.name());
        return NewestFirst.page(db, "reservations", "state <> 'PENDING_HOLD'", filters, limit, offset)
                .map(ReservationRows::read).all();
    }

    /** Reservations per state, every state present (for the operator's gauges). */
    public Mono<Map<String, Long>> countByState() {
        return StateCounts.of(db, "reservations", "state", ReservationState.values());
    }
}
