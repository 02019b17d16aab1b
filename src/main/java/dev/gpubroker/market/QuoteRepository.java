package dev.gpubroker.market;

import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;

import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Repository;

import dev.gpubroker.money.PricePerGpuHour;
import dev.gpubroker.money.Usdc;
import dev.gpubroker.platform.database.Columns;
import dev.gpubroker.platform.database.RowBatch;
import io.r2dbc.spi.Readable;
import reactor.core.publisher.Mono;

@Repository
class QuoteRepository {

    private static final int BASIS_POINTS = 10_000;

    private final DatabaseClient db;

    QuoteRepository(DatabaseClient db) {
        this.db = db;
    }

    /** The quotes of one answer, in one statement and one commit. */
    public Mono<Void> insertAll(List<Quote> quotes) {
        return RowBatch.insert(db, "quotes", List.of("quote_id", "agent_id", "provider", "offer_id", "gpu", "gpu_count",
                "vram_gb", "region", "price_micros_per_gpu_hour", "duration_minutes", "total_micros",
                "expected_cost_micros", "reliability_basis_points", "created_at", "expires_at"), quotes, (row, quote) -> row
                        .set(0, quote.quoteId())
                        .set(1, quote.agentId())
                        .set(2, quote.provider())
                        .set(3, quote.offerId())
                        .set(4, quote.gpu())
                        .set(5, quote.gpuCount())
                        .set(6, quote.vramGb())
                        .set(7, quote.region())
                        .set(8, quote.price().microsPerGpuHour())
                        .set(9, quote.durationMinutes())
                        .set(10, quote.total().micros())
                        .set(11, quote.expectedCost().micros())
                        .set(12, (int) Math.round(quote.reliability() * BASIS_POINTS))
                        .set(13, quote.createdAt().atOffset(ZoneOffset.UTC))
                        .set(14, quote.expiresAt().atOffset(ZoneOffset.UTC)))
                .then();
    }

    public Mono<Quote> findById(String quoteId) {
        return db.sql("SELECT * FROM quotes WHERE quote_id = :id")
                .bind("id", quoteId)
                .map(QuoteRepository::toQuote)
                .one();
    }

    /**
     * Marks a quote as taken by a reservation. Only one reservation can ever take a quote: the update matches only
     * while {@code reserved_by} is empty. Returns whether this call took it.
     */
    public Mono<Boolean> markReserved(String quoteId, String reservationId) {
        return db.sql("UPDATE quotes SET reserved_by = :reservation WHERE quote_id = :id AND reserved_by IS NULL")
                .bind("reservation", reservationId)
                .bind("id", quoteId)
                .fetch().rowsUpdated()
                .map(rows -> rows == 1);
    }

    /** Gives a quote back after the reservation that took it was dropped without ever holding anything. */
    public Mono<Void> clearReserved(String quoteId, String reservationId) {
        return db.sql("UPDATE quotes SET reserved_by = NULL WHERE quote_id = :id AND reserved_by = :reservation")
                .bind("id", quoteId)
                .bind("reservation", reservationId)
                .fetch().rowsUpdated().then();
    }

    /** Quotes that expired long ago and were never reserved serve nobody; they are removed to keep the table small. */
    public Mono<Long> deleteUnreservedExpiredBefore(Instant cutoff) {
        return db.sql("DELETE FROM quotes WHERE reserved_by IS NULL AND expires_at < :cutoff")
                .bind("cutoff", cutoff.atOffset(ZoneOffset.UTC))
                .fetch().rowsUpdated();
    }

    private static Quote toQuote(Readable row) {
        return new Quote(
                row.get("quote_id", String.class),
                row.get("agent_id", String.class),
                row.get("provider", String.class),
                row.get("offer_id", String.class),
                row.get("gpu", String.class),
                Columns.intValue(row, "gpu_count"),
                Columns.intValue(row, "vram_gb"),
                row.get("region", String.class),
                new PricePerGpuHour(Columns.longValue(row, "price_micros_per_gpu_hour")),
                Columns.intValue(row, "duration_minutes"),
                Usdc.ofMicros(Columns.longValue(row, "total_micros")),
                Usdc.ofMicros(Columns.longValue(row, "expected_cost_micros")),
                Columns.intValue(row, "reliability_basis_points") / (double) BASIS_POINTS,
                Columns.instant(row, "created_at"),
                Columns.instant(row, "expires_at"));
    }
}
