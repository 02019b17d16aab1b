package dev.gpubroker.ledger;

import java.time.Clock;
import java.time.ZoneOffset;

import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Repository;

import dev.gpubroker.platform.database.Binds;
import dev.gpubroker.platform.database.Columns;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Ledger lines: inserted, never updated or deleted. */
@Repository
class LedgerRepository {

    private final DatabaseClient db;
    private final Clock clock;

    LedgerRepository(DatabaseClient db, Clock clock) {
        this.db = db;
        this.clock = clock;
    }

    public Mono<Void> insert(LedgerEntry entry) {
        return Flux.range(0, entry.lines().size())
                .concatMap(index -> {
                    LedgerEntry.Line line = entry.lines().get(index);
                    var spec = db.sql("""
                                    INSERT INTO ledger_lines (entry_id, line_number, account, direction, amount_micros,
                                        reservation_id, tx_hash, log_index, reason, created_at)
                                    VALUES (:entry, :line, :account, :direction, :amount, :reservation, :tx, :log, :reason, :at)""")
                            .bind("entry", entry.entryId())
                            .bind("line", index + 1)
                            .bind("account", line.account())
                            .bind("direction", line.direction().name())
                            .bind("amount", line.amount().micros())
                            .bind("reason", entry.reason())
                            .bind("at", clock.instant().atOffset(ZoneOffset.UTC));
                    spec = Binds.nullable(spec, "reservation", entry.reservationId(), String.class);
                    spec = Binds.nullable(spec, "tx", entry.txHash(), String.class);
                    spec = Binds.nullable(spec, "log", entry.logIndex(), Integer.class);
                    return spec.fetch().rowsUpdated();
                })
                .then();
    }

    public Mono<Boolean> existsForLog(String txHash, int logIndex) {
        return db.sql("SELECT COUNT(*) AS n FROM ledger_lines WHERE tx_hash = :tx AND log_index = :log")
                .bind("tx", txHash).bind("log", logIndex)
                .map(row -> Columns.longValue(row, "n") > 0)
                .one();
    }

    /** Debits minus credits of one entry: zero when it balances. */
    public Mono<Long> imbalance(String entryId) {
        return db.sql("SELECT COALESCE(SUM(CASE WHEN direction = 'D' THEN amount_micros ELSE -amount_micros END), 0) AS d "
                        + "FROM ledger_lines WHERE entry_id = :entry")
                .bind("entry", entryId)
                .map(row -> Columns.longValue(row, "d"))
                .one();
    }

    /** The lines that concern one agent (its wallet, its reservations' escrows), newest first. */
    public Flux<LedgerLine> ofAgent(String agentId, int limit, int offset) {
        return db.sql("""
                        SELECT l.* FROM ledger_lines l LEFT JOIN reservations r ON l.reservation_id = r.reservation_id
                        WHERE r.agent_id = :agent OR l.account LIKE :wallet
                        ORDER BY l.created_at DESC, l.entry_id, l.line_number LIMIT :limit OFFSET :offset""")
                .bind("agent", agentId).bind("wallet", "agent:" + agentId + ":%")
                .bind("limit", limit).bind("offset", offset)
                .map(row -> new LedgerLine(row.get("entry_id", String.class), row.get("account", String.class),
                        row.get("direction", String.class), Columns.longValue(row, "amount_micros"),
                        row.get("reservation_id", String.class), row.get("tx_hash", String.class),
                        row.get("log_index", Integer.class) == null ? -1 : Columns.intValue(row, "log_index"),
                        row.get("reason", String.class), Columns.instant(row, "created_at")))
                .all();
    }

    public Flux<LedgerLine> chainBacked() {
        return db.sql("SELECT * FROM ledger_lines WHERE tx_hash IS NOT NULL ORDER BY tx_hash, log_index, line_number")
                .map(row -> new LedgerLine(row.get("entry_id", String.class), row.get("account", String.class),
                        row.get("direction", String.class), Columns.longValue(row, "amount_micros"),
                        row.get("reservation_id", String.class), row.get("tx_hash", String.class),
                        row.get("log_index", Integer.class) == null ? -1 : Columns.intValue(row, "log_index"),
                        row.get("reason", String.class), Columns.instant(row, "created_at")))
                .all();
    }

    /**
     * What every escrow holds now, in micro-USDC: deposits less what was paid out or refunded, over all reservations
     * (a deposit stuck on a closed reservation included, which is what an operator wants to see).
     */
    public Mono<Long> escrowBalanceMicros() {
        return db.sql("SELECT COALESCE(SUM(CASE WHEN direction = 'D' THEN amount_micros ELSE -amount_micros END), 0) AS b "
                        + "FROM ledger_lines WHERE LEFT(account, 7) = 'escrow:'")
                .map(row -> Columns.longValue(row, "b"))
                .one();
    }
}
