package dev.gpubroker.audit;

import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;

import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Repository;

import dev.gpubroker.platform.database.Binds;
import dev.gpubroker.platform.database.Columns;
import dev.gpubroker.platform.database.RowBatch;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Audit lines: inserted, never updated or deleted. */
@Repository
class AuditRepository {

    /** One audit line to write: secrets already redacted, lengths already bounded. */
    public record Line(Instant at, String actorType, String actorId, String action, String arguments, String outcome,
            String detail) {

        /** What the line says but for its time: lines with equal calls are the same call repeated. */
        Call call() {
            return new Call(actorType, actorId, action, arguments, outcome, detail);
        }
    }

    record Call(String actorType, String actorId, String action, String arguments, String outcome, String detail) {
    }

    /** A line and how many identical calls it stands for (the first one's time). */
    public record Counted(Line line, int calls) {
    }

    private final DatabaseClient db;

    AuditRepository(DatabaseClient db) {
        this.db = db;
    }

    public Mono<Void> insert(Instant at, String actorType, String actorId, String action, String arguments,
            String outcome, String detail) {
        var spec = db.sql("INSERT INTO audit_log (recorded_at, actor_type, actor_id, action, arguments, outcome, detail) "
                        + "VALUES (:at, :type, :actor, :action, :arguments, :outcome, :detail)")
                .bind("at", at.atOffset(ZoneOffset.UTC)).bind("type", actorType).bind("actor", actorId)
                .bind("action", action).bind("outcome", outcome);
        spec = Binds.nullable(spec, "arguments", arguments, String.class);
        spec = Binds.nullable(spec, "detail", detail, String.class);
        return spec.fetch().rowsUpdated().then();
    }

    /** Many lines, each with its count of calls, in one statement and one commit. */
    public Mono<Long> insertAll(List<Counted> lines) {
        return RowBatch.insert(db, "audit_log", List.of("recorded_at", "actor_type", "actor_id", "action", "arguments",
                "outcome", "detail", "calls"), lines, (row, counted) -> row
                        .set(0, counted.line().at().atOffset(ZoneOffset.UTC))
                        .set(1, counted.line().actorType())
                        .set(2, counted.line().actorId())
                        .set(3, counted.line().action())
                        .setNullable(4, counted.line().arguments(), String.class)
                        .set(5, counted.line().outcome())
                        .setNullable(6, counted.line().detail(), String.class)
                        .set(7, counted.calls()));
    }

    /** Newest first, keyset-paged: the lines before {@code beforeId} (Long.MAX_VALUE for the first page). */
    public Flux<AuditEntry> page(String actorId, int limit, long beforeId) {
        var spec = db.sql("SELECT * FROM audit_log WHERE audit_id < :before" + (actorId == null ? "" : " AND actor_id = :actor")
                        + " ORDER BY audit_id DESC LIMIT :limit")
                .bind("before", beforeId).bind("limit", limit);
        if (actorId != null) {
            spec = spec.bind("actor", actorId);
        }
        return spec.map(row -> new AuditEntry(Columns.longValue(row, "audit_id"), Columns.instant(row, "recorded_at"),
                row.get("actor_type", String.class), row.get("actor_id", String.class), row.get("action", String.class),
                row.get("arguments", String.class), row.get("outcome", String.class), row.get("detail", String.class),
                Columns.intValue(row, "calls")))
                .all();
    }
}
