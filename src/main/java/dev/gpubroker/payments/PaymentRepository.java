package dev.gpubroker.payments;

import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;

import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Repository;

import dev.gpubroker.money.Usdc;
import dev.gpubroker.payments.Payment.Status;
import dev.gpubroker.platform.database.Binds;
import dev.gpubroker.platform.database.Columns;
import dev.gpubroker.platform.database.StateCounts;
import io.r2dbc.spi.Readable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

@Repository
class PaymentRepository {

    private final DatabaseClient db;

    PaymentRepository(DatabaseClient db) {
        this.db = db;
    }

    public Mono<Void> insert(Payment payment) {
        return db.sql("""
                INSERT INTO payments (payment_id, reservation_id, agent_id, idempotency_key, method, amount_micros,
                    payer_address, payee_address, escrow_deadline, authorization_nonce, status, created_at, updated_at)
                VALUES (:id, :reservation, :agent, :key, :method, :amount, :payer, :payee, :deadline, :nonce, :status,
                    :at, :at)""")
                .bind("id", payment.paymentId())
                .bind("reservation", payment.reservationId())
                .bind("agent", payment.agentId())
                .bind("key", payment.idempotencyKey())
                .bind("method", payment.method().name())
                .bind("amount", payment.amount().micros())
                .bind("payer", payment.payer())
                .bind("payee", payment.payee())
                .bind("deadline", payment.escrowDeadline())
                .bind("nonce", payment.authorizationNonce())
                .bind("status", payment.status().name())
                .bind("at", payment.createdAt().atOffset(ZoneOffset.UTC))
                .fetch().rowsUpdated().then();
    }

    public Mono<Payment> findById(String paymentId) {
        return db.sql("SELECT * FROM payments WHERE payment_id = :id").bind("id", paymentId)
                .map(PaymentRepository::toPayment).one();
    }

    public Mono<Payment> findByIdempotencyKey(String agentId, String key) {
        return db.sql("SELECT * FROM payments WHERE agent_id = :agent AND idempotency_key = :key")
                .bind("agent", agentId).bind("key", key)
                .map(PaymentRepository::toPayment).one();
    }

    /** Keeps the depositTransfer call of a stock x402 payment: what a stray copy of its transfer would be checked by. */
    public Mono<Void> keepTransferCall(String paymentId, String callData) {
        return db.sql("UPDATE payments SET transfer_call = :call WHERE payment_id = :id")
                .bind("call", callData).bind("id", paymentId)
                .fetch().rowsUpdated().then();
    }

    /** A failed stock x402 payment whose signed transfer may still reach the escrow: its id and its call. */
    public record WatchedTransfer(String paymentId, String callData) {
    }

    public Flux<WatchedTransfer> failedTransfersToWatch(int limit) {
        return db.sql("SELECT payment_id, transfer_call FROM payments WHERE status = 'FAILED' AND method = 'SIGNED_TRANSFER' "
                        + "AND transfer_call IS NOT NULL AND stray_watch_closed_at IS NULL ORDER BY updated_at LIMIT :limit")
                .bind("limit", limit)
                .map(row -> new WatchedTransfer(row.get("payment_id", String.class), row.get("transfer_call", String.class)))
                .all();
    }

    public Mono<Boolean> closeStrayWatch(String paymentId, Instant at) {
        return db.sql("UPDATE payments SET stray_watch_closed_at = :at WHERE payment_id = :id "
                        + "AND stray_watch_closed_at IS NULL")
                .bind("at", at.atOffset(ZoneOffset.UTC)).bind("id", paymentId)
                .fetch().rowsUpdated().map(rows -> rows == 1);
    }

    /**
     * A payment that used this EIP-3009 authorization (payer and nonce) and did not fail: an x402 transfer pays one
     * reservation only, whatever the client sends it with.
     */
    public Mono<Payment> findLiveByAuthorization(String payer, String nonce) {
        return db.sql("SELECT * FROM payments WHERE LOWER(payer_address) = :payer AND LOWER(authorization_nonce) = :nonce "
                        + "AND status <> 'FAILED' ORDER BY created_at LIMIT 1")
                .bind("payer", payer.toLowerCase(java.util.Locale.ROOT))
                .bind("nonce", nonce.toLowerCase(java.util.Locale.ROOT))
                .map(PaymentRepository::toPayment).one();
    }

    /** Moves a payment from one of the given states to another; true when this call made the move. */
    public Mono<Boolean> transition(String paymentId, List<Status> from, Status to, String txHash, String reason,
            Instant at) {
        var spec = db.sql("UPDATE payments SET status = :to, tx_hash = COALESCE(:tx, tx_hash), "
                        + "failure_reason = :reason, updated_at = :at WHERE payment_id = :id AND status IN (:from)")
                .bind("to", to.name())
                .bind("at", at.atOffset(ZoneOffset.UTC))
                .bind("id", paymentId)
                .bind("from", from.stream().map(Enum::name).toList());
        spec = Binds.nullable(spec, "tx", txHash, String.class);
        spec = Binds.nullable(spec, "reason", reason, String.class);
        return spec.fetch().rowsUpdated().map(rows -> rows == 1);
    }

    private static Payment toPayment(Readable row) {
        return new Payment(
                row.get("payment_id", String.class),
                row.get("reservation_id", String.class),
                row.get("agent_id", String.class),
                row.get("idempotency_key", String.class),
                Payment.Method.valueOf(row.get("method", String.class)),
                Usdc.ofMicros(Columns.longValue(row, "amount_micros")),
                row.get("payer_address", String.class),
                row.get("payee_address", String.class),
                Columns.longValue(row, "escrow_deadline"),
                row.get("authorization_nonce", String.class),
                Status.valueOf(row.get("status", String.class)),
                row.get("tx_hash", String.class),
                row.get("failure_reason", String.class),
                Columns.instant(row, "created_at"),
                Columns.instant(row, "updated_at"));
    }

    /** Payments per status, every status present (for the operator's gauges). */
    public Mono<Map<String, Long>> countByStatus() {
        return StateCounts.of(db, "payments", "status", Status.values());
    }
}
