package dev.gpubroker.market;

import java.time.Clock;
import java.time.ZoneOffset;
import java.util.Map;

import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.transaction.reactive.TransactionalOperator;

import dev.gpubroker.platform.database.Columns;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Capacity of the demo marketplace. A hold is a row in demo_holds plus a conditional increment of held_units, in
 * one transaction: the increment matches only while enough units are free, so no interleaving of concurrent holds
 * can oversell an offer. Releasing flips the hold's released flag first, so a release runs at most once.
 */
class DemoCapacityRepository {

    private final DatabaseClient db;
    private final TransactionalOperator transaction;
    private final Clock clock;

    DemoCapacityRepository(DatabaseClient db, TransactionalOperator transaction, Clock clock) {
        this.db = db;
        this.transaction = transaction;
        this.clock = clock;
    }

    /** Sets each offer's total capacity from the catalog, keeping the units already held. */
    Mono<Void> seed(String provider, Map<String, Integer> totalUnitsByOffer) {
        return Flux.fromIterable(totalUnitsByOffer.entrySet())
                .concatMap(entry -> db.sql("UPDATE demo_capacity SET total_units = :total WHERE provider = :p AND offer_id = :o")
                        .bind("total", entry.getValue()).bind("p", provider).bind("o", entry.getKey())
                        .fetch().rowsUpdated()
                        .flatMap(rows -> rows > 0 ? Mono.empty()
                                : db.sql("INSERT INTO demo_capacity (provider, offer_id, total_units, held_units) VALUES (:p, :o, :total, 0)")
                                        .bind("p", provider).bind("o", entry.getKey()).bind("total", entry.getValue())
                                        .fetch().rowsUpdated()
                                        // Another instance seeded the same row first: its row is as good as ours.
                                        .onErrorResume(DataIntegrityViolationException.class, e -> Mono.just(0L))))
                .then();
    }

    Mono<Map<String, Integer>> freeUnits(String provider) {
        return db.sql("SELECT offer_id, total_units - held_units AS free_units FROM demo_capacity WHERE provider = :p")
                .bind("p", provider)
                .map(row -> Map.entry(row.get("offer_id", String.class), Math.max(0, Columns.intValue(row, "free_units"))))
                .all()
                .collectMap(Map.Entry::getKey, Map.Entry::getValue);
    }

    /** Holds units under holdId; true when held (now or by an earlier call with the same id), false when full. */
    Mono<Boolean> hold(String holdId, String provider, String offerId, int units) {
        Mono<Boolean> attempt = existingHold(holdId).switchIfEmpty(Mono.defer(() -> db.sql("""
                        UPDATE demo_capacity SET held_units = held_units + :units
                        WHERE provider = :p AND offer_id = :o AND total_units - held_units >= :units""")
                .bind("units", units).bind("p", provider).bind("o", offerId)
                .fetch().rowsUpdated()
                .flatMap(rows -> rows == 0 ? Mono.just(false)
                        : db.sql("INSERT INTO demo_holds (hold_id, provider, offer_id, units, released, created_at) "
                                        + "VALUES (:h, :p, :o, :units, FALSE, :at)")
                                .bind("h", holdId).bind("p", provider).bind("o", offerId).bind("units", units)
                                .bind("at", clock.instant().atOffset(ZoneOffset.UTC))
                                .fetch().rowsUpdated().thenReturn(true))));
        return transaction.transactional(attempt)
                // The same hold id raced with itself: the transaction that lost rolled back; the winner's hold stands.
                .onErrorResume(DataIntegrityViolationException.class, e -> existingHold(holdId).defaultIfEmpty(false));
    }

    Mono<Void> release(String holdId) {
        Mono<Void> release = db.sql("UPDATE demo_holds SET released = TRUE WHERE hold_id = :h AND released = FALSE")
                .bind("h", holdId)
                .fetch().rowsUpdated()
                .flatMap(rows -> rows == 0 ? Mono.<Void>empty()
                        : db.sql("""
                                UPDATE demo_capacity SET held_units = held_units - (SELECT units FROM demo_holds WHERE hold_id = :h)
                                WHERE (provider, offer_id) = (SELECT provider, offer_id FROM demo_holds WHERE hold_id = :h)""")
                                .bind("h", holdId)
                                .fetch().rowsUpdated()
                                .flatMap(updated -> updated == 1 ? Mono.<Void>empty()
                                        : Mono.error(new IllegalStateException("hold " + holdId + " has no capacity row"))));
        return transaction.transactional(release);
    }

    private Mono<Boolean> existingHold(String holdId) {
        return db.sql("SELECT released FROM demo_holds WHERE hold_id = :h")
                .bind("h", holdId)
                .map(row -> !Boolean.TRUE.equals(row.get("released", Boolean.class)))
                .one();
    }
}
