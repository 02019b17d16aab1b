package dev.gpubroker.payments.relayer;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;

import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Repository;

import dev.gpubroker.payments.relayer.ChainTransaction.Status;
import dev.gpubroker.platform.database.Binds;
import dev.gpubroker.platform.database.Columns;
import io.r2dbc.spi.Readable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Signed relayer transactions, the relayer's nonce counter and its free nonces. */
@Repository
class ChainTransactionRepository {

    private final DatabaseClient db;

    ChainTransactionRepository(DatabaseClient db) {
        this.db = db;
    }

    /*
     * The relayer's nonce counter and its free nonces. Every broker instance sharing the database allocates through
     * these, and only while it holds the counter row's lock (lockCounter, inside a transaction): that lock is what makes
     * allocation one decision at a time across instances. The decisions themselves live in payments.relayer.RelayerNonces.
     */

    /**
     * Creates the counter at the chain's pending nonce when the account has none yet. Runs outside any transaction: on
     * PostgreSQL a failed statement would abort the transaction it ran in, and a second instance creating the same row
     * at the same moment is expected, not an error.
     */
    public Mono<Void> createCounterIfAbsent(String address, long chainPendingNonce) {
        return db.sql("SELECT COUNT(*) AS n FROM relayer_nonces WHERE address = :a").bind("a", address)
                .map(row -> Columns.longValue(row, "n")).one()
                .flatMap(rows -> rows > 0 ? Mono.<Void>empty()
                        : db.sql("INSERT INTO relayer_nonces (address, next_nonce) VALUES (:a, :n)")
                                .bind("a", address).bind("n", chainPendingNonce)
                                .fetch().rowsUpdated().then()
                                .onErrorResume(DataIntegrityViolationException.class, raced -> Mono.empty()));
    }

    /** The next nonce never handed out; the counter row stays locked until the surrounding transaction ends. */
    public Mono<Long> lockCounter(String address) {
        return db.sql("SELECT next_nonce FROM relayer_nonces WHERE address = :a FOR UPDATE")
                .bind("a", address)
                .map(row -> Columns.longValue(row, "next_nonce"))
                .one();
    }

    /** Sets the counter; only under {@link #lockCounter}. */
    public Mono<Void> setCounter(String address, long nextNonce) {
        return db.sql("UPDATE relayer_nonces SET next_nonce = :next WHERE address = :a")
                .bind("next", nextNonce).bind("a", address)
                .fetch().rowsUpdated()
                .flatMap(rows -> rows == 1 ? Mono.<Void>empty()
                        : Mono.error(new IllegalStateException("no nonce counter for " + address)));
    }

    /** The free nonces, lowest first, at most {@code limit}. */
    public Flux<Long> freeNonces(String address, int limit) {
        return db.sql("SELECT nonce FROM relayer_free_nonces WHERE address = :a ORDER BY nonce LIMIT :limit")
                .bind("a", address).bind("limit", limit)
                .map(row -> Columns.longValue(row, "nonce"))
                .all();
    }

    /** The free nonces freed before {@code before}, lowest first, at most {@code limit}: those nobody took in time. */
    public Flux<Long> freeNoncesFreedBefore(String address, Instant before, int limit) {
        return db.sql("SELECT nonce FROM relayer_free_nonces WHERE address = :a AND freed_at < :before ORDER BY nonce "
                        + "LIMIT :limit")
                .bind("a", address).bind("before", before.atOffset(ZoneOffset.UTC)).bind("limit", limit)
                .map(row -> Columns.longValue(row, "nonce"))
                .all();
    }

    /** Takes a free nonce; true when this call did. Only under {@link #lockCounter}. */
    public Mono<Boolean> takeFreeNonce(String address, long nonce) {
        return db.sql("DELETE FROM relayer_free_nonces WHERE address = :a AND nonce = :n")
                .bind("a", address).bind("n", nonce)
                .fetch().rowsUpdated().map(rows -> rows == 1);
    }

    /** Only under {@link #lockCounter}. */
    public Mono<Void> addFreeNonce(String address, long nonce, Instant at) {
        return db.sql("INSERT INTO relayer_free_nonces (address, nonce, freed_at) VALUES (:a, :n, :at)")
                .bind("a", address).bind("n", nonce).bind("at", at.atOffset(ZoneOffset.UTC))
                .fetch().rowsUpdated().then();
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

    /** {@link #markBroadcast} for several transactions in one statement: how many were still SIGNED. */
    public Mono<Long> markBroadcast(List<String> hashes, Instant at) {
        if (hashes.isEmpty()) {
            return Mono.just(0L);
        }
        return db.sql("UPDATE chain_transactions SET status = 'BROADCAST', broadcast_at = :at, updated_at = :at "
                        + "WHERE tx_hash IN (:hashes) AND status = 'SIGNED'")
                .bind("at", at.atOffset(ZoneOffset.UTC)).bind("hashes", hashes)
                .fetch().rowsUpdated();
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

    /**
     * A transaction the node refused on its first broadcast: REJECTED, but only while it is still SIGNED. False when
     * another instance's tracker broadcast the same bytes meanwhile: then the node has it, and its nonce is not free.
     */
    public Mono<Boolean> reject(String hash, String reason, Instant at) {
        return db.sql("UPDATE chain_transactions SET status = 'REJECTED', failure_reason = :reason, updated_at = :at "
                        + "WHERE tx_hash = :hash AND status = 'SIGNED'")
                .bind("reason", reason.length() > 400 ? reason.substring(0, 400) : reason)
                .bind("at", at.atOffset(ZoneOffset.UTC)).bind("hash", hash)
                .fetch().rowsUpdated().map(rows -> rows == 1);
    }

    /**
     * Claims the right to record a mined transaction's outcome until {@code until}; true for exactly one caller among
     * the instances whose trackers saw the receipt, and again for one caller once a lease ran out unfinished.
     */
    public Mono<Boolean> claimOutcome(String hash, Instant now, Instant until) {
        return db.sql("UPDATE chain_transactions SET outcome_lease_until = :until WHERE tx_hash = :hash "
                        + "AND status IN ('SIGNED', 'BROADCAST') AND (outcome_lease_until IS NULL OR outcome_lease_until < :now)")
                .bind("until", until.atOffset(ZoneOffset.UTC)).bind("hash", hash).bind("now", now.atOffset(ZoneOffset.UTC))
                .fetch().rowsUpdated().map(rows -> rows == 1);
    }

    /** Gives a claim back early (its listener failed), so that the next pass of any instance retries at once. */
    public Mono<Void> releaseOutcome(String hash, Instant until) {
        return db.sql("UPDATE chain_transactions SET outcome_lease_until = NULL WHERE tx_hash = :hash "
                        + "AND outcome_lease_until = :until")
                .bind("hash", hash).bind("until", until.atOffset(ZoneOffset.UTC))
                .fetch().rowsUpdated().then();
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

    /** Every live transaction (as {@link #findLive}) of any of these references, whatever its purpose: one query. */
    public Flux<ChainTransaction> findLive(List<String> referenceIds) {
        return db.sql("SELECT * FROM chain_transactions WHERE reference_id IN (:r) AND status NOT IN ('REJECTED', "
                        + "'REVERTED')")
                .bind("r", referenceIds)
                .map(ChainTransactionRepository::toTransaction).all();
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
