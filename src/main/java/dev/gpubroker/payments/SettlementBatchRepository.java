package dev.gpubroker.payments;

import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Objects;

import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Repository;

import dev.gpubroker.money.Usdc;
import dev.gpubroker.platform.database.Columns;
import io.r2dbc.spi.Readable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Which reservations each settleBatch transaction settles (table {@code settlement_batch_members}). A membership is
 * live from its claim until it is released; the database keeps a reservation in one live membership at a time.
 */
@Repository
class SettlementBatchRepository {

    /** One reservation in one batch, with the amounts its Settled event must carry. */
    record Member(String batchId, String reservationId, Usdc used, Usdc escrowed, boolean live, Instant createdAt) {

        Member {
            Objects.requireNonNull(batchId, "batchId");
            Objects.requireNonNull(reservationId, "reservationId");
            if (used.compareTo(escrowed) > 0) {
                throw new IllegalStateException("batch " + batchId + " settles " + used + " of reservation "
                        + reservationId + ", more than the " + escrowed + " escrowed");
            }
        }
    }

    private final DatabaseClient db;

    SettlementBatchRepository(DatabaseClient db) {
        this.db = db;
    }

    /**
     * Makes the reservation a live member of the batch; false when it already is a live member of a batch (this one
     * or another), and nothing was written.
     */
    Mono<Boolean> claim(String batchId, String reservationId, Usdc used, Usdc escrowed, Instant at) {
        if (used.compareTo(escrowed) > 0) {
            return Mono.error(new IllegalStateException("settling " + used + " of reservation " + reservationId
                    + " would take more than the " + escrowed + " escrowed"));
        }
        return db.sql("""
                        INSERT INTO settlement_batch_members (batch_id, reservation_id, used_micros, escrowed_micros,
                            live_reservation_id, created_at)
                        VALUES (:batch, :reservation, :used, :escrowed, :reservation, :at)""")
                .bind("batch", batchId).bind("reservation", reservationId).bind("used", used.micros())
                .bind("escrowed", escrowed.micros()).bind("at", at.atOffset(ZoneOffset.UTC))
                .fetch().rowsUpdated().map(rows -> rows == 1)
                // The unique index on live_reservation_id: the caller reads the live membership that holds it.
                .onErrorResume(DataIntegrityViolationException.class, taken -> Mono.just(false));
    }

    /** The reservation's live membership, if any. */
    Mono<Member> findLive(String reservationId) {
        return db.sql("SELECT * FROM settlement_batch_members WHERE live_reservation_id = :r")
                .bind("r", reservationId)
                .map(SettlementBatchRepository::toMember)
                .one();
    }

    /** Every member the batch was written with, live or released, in the order of their reservation ids. */
    Flux<Member> members(String batchId) {
        return db.sql("SELECT * FROM settlement_batch_members WHERE batch_id = :b ORDER BY reservation_id")
                .bind("b", batchId)
                .map(SettlementBatchRepository::toMember)
                .all();
    }

    /** Releases every live membership of the batch: its transaction settles nothing. Answers how many were live. */
    Mono<Long> release(String batchId) {
        return db.sql("UPDATE settlement_batch_members SET live_reservation_id = NULL WHERE batch_id = :b "
                        + "AND live_reservation_id IS NOT NULL")
                .bind("b", batchId)
                .fetch().rowsUpdated();
    }

    private static Member toMember(Readable row) {
        return new Member(
                row.get("batch_id", String.class),
                row.get("reservation_id", String.class),
                Usdc.ofMicros(Columns.longValue(row, "used_micros")),
                Usdc.ofMicros(Columns.longValue(row, "escrowed_micros")),
                row.get("live_reservation_id", String.class) != null,
                Columns.instant(row, "created_at"));
    }
}
