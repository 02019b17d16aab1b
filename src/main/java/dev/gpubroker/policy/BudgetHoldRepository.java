package dev.gpubroker.policy;

import java.time.Instant;
import java.time.ZoneOffset;

import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Repository;

import dev.gpubroker.money.Usdc;
import dev.gpubroker.platform.database.Columns;
import reactor.core.publisher.Mono;

/** Budget holds: HELD counts in full, SPENT counts what was spent, RELEASED counts nothing. */
@Repository
class BudgetHoldRepository {

    /** An agent's usage (parameters {@code :a}, the agent, and {@code :since}, 24 hours ago), as one row. */
    static final String USAGE_OF_AGENT = """
            SELECT
              COALESCE(SUM(CASE WHEN state = 'HELD' THEN amount_micros ELSE 0 END), 0) AS held,
              COALESCE(SUM(CASE WHEN state = 'SPENT' THEN spent_micros ELSE 0 END), 0) AS spent,
              COALESCE(SUM(CASE WHEN state = 'SPENT' AND closed_at > :since THEN spent_micros ELSE 0 END), 0) AS spent_day
            FROM budget_holds WHERE agent_id = :a""";

    private final DatabaseClient db;

    BudgetHoldRepository(DatabaseClient db) {
        this.db = db;
    }

    public Mono<BudgetUsage> usage(String agentId, Instant dayStart) {
        return db.sql(USAGE_OF_AGENT)
                .bind("a", agentId).bind("since", dayStart.atOffset(ZoneOffset.UTC))
                .map(BudgetHoldRepository::toUsage)
                .one();
    }

    static BudgetUsage toUsage(io.r2dbc.spi.Readable row) {
        return new BudgetUsage(Usdc.ofMicros(Columns.longValue(row, "held")), Usdc.ofMicros(Columns.longValue(row, "spent")),
                Usdc.ofMicros(Columns.longValue(row, "spent_day")));
    }

    public Mono<Void> hold(String reservationId, String agentId, Usdc amount, Instant at) {
        return db.sql("INSERT INTO budget_holds (reservation_id, agent_id, amount_micros, spent_micros, state, created_at) "
                        + "VALUES (:r, :a, :amount, 0, 'HELD', :at)")
                .bind("r", reservationId).bind("a", agentId).bind("amount", amount.micros())
                .bind("at", at.atOffset(ZoneOffset.UTC))
                .fetch().rowsUpdated().then();
    }

    /** Releases a hold that spent nothing (expiry, cancel, refund); false when it was not held. */
    public Mono<Boolean> release(String reservationId, Instant at) {
        return db.sql("UPDATE budget_holds SET state = 'RELEASED', closed_at = :at WHERE reservation_id = :r AND state = 'HELD'")
                .bind("r", reservationId).bind("at", at.atOffset(ZoneOffset.UTC))
                .fetch().rowsUpdated().map(rows -> rows == 1);
    }

    /** Turns a hold into spending of {@code spent} (at most the hold); the rest is released with it. */
    public Mono<Boolean> spend(String reservationId, Usdc spent, Instant at) {
        return db.sql("UPDATE budget_holds SET state = 'SPENT', spent_micros = :spent, closed_at = :at "
                        + "WHERE reservation_id = :r AND state = 'HELD' AND amount_micros >= :spent")
                .bind("r", reservationId).bind("spent", spent.micros()).bind("at", at.atOffset(ZoneOffset.UTC))
                .fetch().rowsUpdated().map(rows -> rows == 1);
    }

    /** Releases the holds of reservations that closed without spending (a crash can fall between the two steps). */
    public Mono<Long> releaseForClosedReservations(Instant at) {
        return db.sql("UPDATE budget_holds SET state = 'RELEASED', closed_at = :at WHERE state = 'HELD' AND reservation_id IN "
                        + "(SELECT reservation_id FROM reservations WHERE state IN ('EXPIRED', 'CANCELLED', 'REFUNDED'))")
                .bind("at", at.atOffset(ZoneOffset.UTC)).fetch().rowsUpdated();
    }

    /** Removes the hold of a reservation claim that never held anything. */
    public Mono<Void> delete(String reservationId) {
        return db.sql("DELETE FROM budget_holds WHERE reservation_id = :r AND state = 'HELD'").bind("r", reservationId)
                .fetch().rowsUpdated().then();
    }
}
