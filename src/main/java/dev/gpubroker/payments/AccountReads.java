package dev.gpubroker.payments;

import java.util.ArrayList;
import java.util.List;

import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Repository;

import dev.gpubroker.money.Usdc;
import dev.gpubroker.platform.database.Columns;
import dev.gpubroker.platform.database.ReadCaches;
import dev.gpubroker.platform.database.ReadThroughCache;
import dev.gpubroker.scheduler.Reservation;
import dev.gpubroker.scheduler.ReservationRows;
import dev.gpubroker.scheduler.ReservationState;
import reactor.core.publisher.Mono;

/**
 * What {@code account} shows of the database, in one statement (one connection, one trip to the database's threads):
 * what the agent has in escrow (its reservations' escrow lines in the ledger, deposits less payouts and refunds) and
 * its latest reservations.
 */
@Repository
class AccountReads {

    record Read(Usdc escrowed, List<Reservation> recentReservations) {
    }

    // The escrow sum is a one-row table; the reservations join it, so that an agent without any still gets its row.
    // LEFT(..., 7), not LIKE: H2 plans a statement with LIKE again at every execution.
    private static final String ESCROWED_AND_RECENT = """
            SELECT e.escrowed, r.* FROM (
                SELECT COALESCE(SUM(CASE WHEN l.direction = 'D' THEN l.amount_micros ELSE -l.amount_micros END), 0)
                    AS escrowed
                FROM ledger_lines l JOIN reservations x ON l.reservation_id = x.reservation_id
                WHERE x.agent_id = :agent AND LEFT(l.account, 7) = 'escrow:') e
            LEFT JOIN (
                SELECT * FROM reservations WHERE agent_id = :agent AND state <> :pending
                ORDER BY created_at DESC LIMIT :limit) r ON TRUE
            ORDER BY r.created_at DESC""";

    private final DatabaseClient db;
    private final ReadThroughCache<Key, Read> reads;

    AccountReads(DatabaseClient db, ReadCaches caches) {
        this.db = db;
        this.reads = caches.create("account", 10_000, List.of("ledger_lines", "reservations"));
    }

    /**
     * The agent's escrowed sum and its {@code limit} latest reservations (newest first), a reserve in progress left out;
     * from memory while neither table changed on this instance (for at most {@code gpubroker.database.read-cache-ttl}).
     */
    Mono<Read> escrowedAndRecent(String agentId, int limit) {
        return reads.read(new Key(agentId, limit), () -> read(agentId, limit));
    }

    private Mono<Read> read(String agentId, int limit) {
        return db.sql(ESCROWED_AND_RECENT)
                .bind("agent", agentId).bind("pending", ReservationState.PENDING_HOLD.name()).bind("limit", limit)
                .map(row -> new Row(Columns.longValue(row, "escrowed"),
                        row.get("reservation_id", String.class) == null ? null : ReservationRows.read(row)))
                .all()
                .collectList()
                .map(rows -> {
                    List<Reservation> reservations = new ArrayList<>(rows.size());
                    for (Row row : rows) {
                        if (row.reservation() != null) {
                            reservations.add(row.reservation());
                        }
                    }
                    return new Read(Usdc.ofMicros(rows.getFirst().escrowedMicros()), List.copyOf(reservations));
                });
    }

    private record Row(long escrowedMicros, Reservation reservation) {
    }

    private record Key(String agentId, int limit) {
    }
}
