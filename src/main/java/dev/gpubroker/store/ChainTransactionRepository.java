package dev.gpubroker.store;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.ZoneOffset;

import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Repository;

import dev.gpubroker.payments.relayer.ChainTransaction;
import dev.gpubroker.payments.relayer.ChainTransaction.Status;
import io.r2dbc.spi.Readable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Signed relayer transactions and the relayer's nonce counter. */
@Repository
public class ChainTransactionRepository {

    private final DatabaseClient db;

    public ChainTransactionRepository(DatabaseClient db) {
        this.db = db;
    }

    /** The next nonce to use, initialised from the chain's count the first time; it only moves forward by one. */
    public Mono<Long> takeNonce(String address, long chainPendingNonce) {
        return db.sql("SELECT next_nonce FROM relayer_nonces WHERE address = :a")
                .bind("a", address)
                .map(row -> Columns.longValue(row, "next_nonce"))
                .one()
                .switchIfEmpty(db.sql("INSERT INTO relayer_nonces (address, next_nonce) VALUES (:a, :n)")
                        .bind("a", address).bind("n", chainPendingNonce)
                        .fetch().rowsUpdated().thenReturn(chainPendingNonce))
                .map(stored -> Math.max(stored, chainPendingNonce))
                .flatMap(nonce -> db.sql("UPDATE relayer_nonces SET next_nonce = :next WHERE address = :a")
                        .bind("next", nonce + 1).bind("a", address)
                        .fetch().rowsUpdated().thenReturn(nonce));
    }

    /** Gives back a nonce that was never broadcast, only when it is still the last one handed out: no gap, ever. */
    public Mono<Boolean> returnNonce(String address, long nonce) {
        return db.sql("UPDATE relayer_nonces SET next_nonce = :nonce WHERE address = :a AND next_nonce = :next")
                .bind("nonce", nonce).bind("a", address).bind("next", nonce + 1)
                .fetch().rowsUpdated().map(rows -> rows == 1);
    }

    public Mono<Void> insert(ChainTransaction transaction) {
        return Binds.nullable(db.sql("""
                        INSERT INTO chain_transactions (tx_hash, from_address, nonce, purpose, reference_id, to_address,
                            call_data, gas_limit, max_fee_per_gas, max_priority_fee, signed_raw, status, replaces_tx_hash,
                            created_at, updated_at)
                        VALUES (:hash, :from, :nonce, :purpose, :reference, :to, :data, :gas, :maxFee, :priority, :raw,
                            :status, :replaces, :at, :at)""")
                        .bind("hash", transaction.hash())
                        .bind("from", transaction.from())
                        .bind("nonce", transaction.nonce())
                        .bind("purpose", transaction.purpose())
                        .bind("reference", transaction.referenceId())
                        .bind("to", transaction.to())
                        .bind("data", transaction.callData())
                        .bind("gas", transaction.gasLimit())
                        .bind("maxFee", new BigDecimal(transaction.maxFeePerGas()))
                        .bind("priority", new BigDecimal(transaction.maxPriorityFeePerGas()))
                        .bind("raw", transaction.signedRaw())
                        .bind("status", transaction.status().name())
                        .bind("at", transaction.createdAt().atOffset(ZoneOffset.UTC)),
                "replaces", transaction.replacesHash(), String.class)
                .fetch().rowsUpdated().then();
    }

    public Mono<Boolean> markBroadcast(String hash, Instant at) {
        return db.sql("UPDATE chain_transactions SET status = 'BROADCAST', broadcast_at = :at, updated_at = :at "
                        + "WHERE tx_hash = :hash AND status = 'SIGNED'")
                .bind("at", at.atOffset(ZoneOffset.UTC)).bind("hash", hash)
                .fetch().rowsUpdated().map(rows -> rows == 1);
    }

    /** Moves a transaction to a final status from an open one; true when this call did. */
    public Mono<Boolean> close(String hash, Status status, Long blockNumber, Long gasUsed, String reason, Instant at) {
        var spec = db.sql("UPDATE chain_transactions SET status = :status, block_number = :block, gas_used = :gas, "
                        + "failure_reason = :reason, updated_at = :at WHERE tx_hash = :hash AND status IN ('SIGNED', 'BROADCAST')")
                .bind("status", status.name()).bind("at", at.atOffset(ZoneOffset.UTC)).bind("hash", hash);
        spec = Binds.nullable(spec, "block", blockNumber, Long.class);
        spec = Binds.nullable(spec, "gas", gasUsed, Long.class);
        spec = Binds.nullable(spec, "reason", reason, String.class);
        return spec.fetch().rowsUpdated().map(rows -> rows == 1);
    }

    public Flux<ChainTransaction> findOpen(int limit) {
        return db.sql("SELECT * FROM chain_transactions WHERE status IN ('SIGNED', 'BROADCAST') ORDER BY nonce LIMIT :limit")
                .bind("limit", limit)
                .map(ChainTransactionRepository::toTransaction)
                .all();
    }

    public Flux<ChainTransaction> findByNonce(String from, long nonce) {
        return db.sql("SELECT * FROM chain_transactions WHERE from_address = :from AND nonce = :nonce")
                .bind("from", from).bind("nonce", nonce)
                .map(ChainTransactionRepository::toTransaction)
                .all();
    }

    public Flux<ChainTransaction> findByReference(String referenceId) {
        return db.sql("SELECT * FROM chain_transactions WHERE reference_id = :r").bind("r", referenceId)
                .map(ChainTransactionRepository::toTransaction).all();
    }

    /**
     * The transaction of this purpose for this reference that is on its way or done (signed, broadcast, confirmed or
     * replaced), if any: what makes a settlement or a refund happen at most once per reservation.
     */
    public Mono<ChainTransaction> findLive(String referenceId, String purpose) {
        return findByReference(referenceId)
                .filter(sent -> sent.purpose().equals(purpose) && sent.status() != ChainTransaction.Status.REJECTED
                        && sent.status() != ChainTransaction.Status.REVERTED)
                .next();
    }

    public Mono<ChainTransaction> findByHash(String hash) {
        return db.sql("SELECT * FROM chain_transactions WHERE tx_hash = :hash")
                .bind("hash", hash)
                .map(ChainTransactionRepository::toTransaction)
                .one();
    }

    private static ChainTransaction toTransaction(Readable row) {
        return new ChainTransaction(
                row.get("tx_hash", String.class),
                row.get("from_address", String.class),
                Columns.longValue(row, "nonce"),
                row.get("purpose", String.class),
                row.get("reference_id", String.class),
                row.get("to_address", String.class),
                row.get("call_data", String.class),
                Columns.longValue(row, "gas_limit"),
                row.get("max_fee_per_gas", BigDecimal.class).toBigIntegerExact(),
                row.get("max_priority_fee", BigDecimal.class).toBigIntegerExact(),
                row.get("signed_raw", String.class),
                Status.valueOf(row.get("status", String.class)),
                row.get("replaces_tx_hash", String.class),
                Columns.instant(row, "broadcast_at"),
                Columns.instant(row, "created_at"));
    }
}
