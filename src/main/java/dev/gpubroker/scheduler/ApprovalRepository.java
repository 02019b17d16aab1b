package dev.gpubroker.scheduler;

import java.time.Instant;
import java.time.ZoneOffset;

import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Repository;

import dev.gpubroker.money.Usdc;
import dev.gpubroker.platform.database.Binds;
import dev.gpubroker.platform.database.Columns;
import io.r2dbc.spi.Readable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

@Repository
class ApprovalRepository {

    private final DatabaseClient db;

    ApprovalRepository(DatabaseClient db) {
        this.db = db;
    }

    public Mono<Void> insert(Approval approval) {
        return db.sql("INSERT INTO approvals (approval_id, reservation_id, agent_id, amount_micros, status, created_at, "
                        + "expires_at) VALUES (:id, :r, :a, :amount, :status, :at, :expires)")
                .bind("id", approval.approvalId()).bind("r", approval.reservationId()).bind("a", approval.agentId())
                .bind("amount", approval.amount().micros()).bind("status", approval.status().name())
                .bind("at", approval.createdAt().atOffset(ZoneOffset.UTC))
                .bind("expires", approval.expiresAt().atOffset(ZoneOffset.UTC))
                .fetch().rowsUpdated().then();
    }

    public Mono<Approval> findById(String approvalId) {
        return db.sql("SELECT * FROM approvals WHERE approval_id = :id").bind("id", approvalId)
                .map(ApprovalRepository::toApproval).one();
    }

    public Mono<Approval> findByReservation(String reservationId) {
        return db.sql("SELECT * FROM approvals WHERE reservation_id = :r").bind("r", reservationId)
                .map(ApprovalRepository::toApproval).one();
    }

    public Flux<Approval> list(Approval.Status status, int limit, int offset) {
        var spec = db.sql("SELECT * FROM approvals" + (status == null ? "" : " WHERE status = :status")
                + " ORDER BY created_at DESC LIMIT :limit OFFSET :offset")
                .bind("limit", limit).bind("offset", offset);
        if (status != null) {
            spec = spec.bind("status", status.name());
        }
        return spec.map(ApprovalRepository::toApproval).all();
    }

    /** PENDING → a decision, only while it has not expired; true when this call decided. */
    public Mono<Boolean> decide(String approvalId, Approval.Status decision, String by, String reason, Instant at) {
        var spec = db.sql("UPDATE approvals SET status = :status, decided_by = :by, reason = :reason, decided_at = :at "
                        + "WHERE approval_id = :id AND status = 'PENDING' AND expires_at > :at")
                .bind("status", decision.name()).bind("by", by).bind("at", at.atOffset(ZoneOffset.UTC)).bind("id", approvalId);
        spec = Binds.nullable(spec, "reason", reason, String.class);
        return spec.fetch().rowsUpdated().map(rows -> rows == 1);
    }

    public Mono<Long> expirePendingBefore(Instant at) {
        return db.sql("UPDATE approvals SET status = 'EXPIRED', decided_at = :at WHERE status = 'PENDING' AND expires_at <= :at")
                .bind("at", at.atOffset(ZoneOffset.UTC)).fetch().rowsUpdated();
    }

    private static Approval toApproval(Readable row) {
        return new Approval(row.get("approval_id", String.class), row.get("reservation_id", String.class),
                row.get("agent_id", String.class), Usdc.ofMicros(Columns.longValue(row, "amount_micros")),
                Approval.Status.valueOf(row.get("status", String.class)), row.get("decided_by", String.class),
                row.get("reason", String.class), Columns.instant(row, "created_at"), Columns.instant(row, "expires_at"),
                Columns.instant(row, "decided_at"));
    }
}
