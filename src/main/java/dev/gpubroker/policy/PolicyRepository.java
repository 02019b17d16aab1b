package dev.gpubroker.policy;

import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Repository;
import org.springframework.transaction.reactive.TransactionalOperator;

import dev.gpubroker.money.PricePerGpuHour;
import dev.gpubroker.money.Usdc;
import dev.gpubroker.platform.database.Binds;
import io.r2dbc.spi.Readable;
import reactor.core.publisher.Mono;

@Repository
class PolicyRepository {

    /** A policy, its usage, and the stored value of a setting (the kill switch's), as read together. */
    public record PolicyWithUsage(SpendPolicy policy, BudgetUsage usage, String settingValue) {
    }

    private final DatabaseClient db;
    private final TransactionalOperator transaction;

    PolicyRepository(DatabaseClient db, TransactionalOperator transaction) {
        this.db = db;
        this.transaction = transaction;
    }

    public Mono<SpendPolicy> find(String agentId) {
        return db.sql("SELECT * FROM agent_policies WHERE agent_id = :a").bind("a", agentId)
                .map(PolicyRepository::toPolicy).one();
    }

    /**
     * The agent's policy, its usage since {@code dayStart} and the value of the setting {@code killSwitchSetting}, in
     * one read instead of three; empty when the agent has no policy row yet.
     */
    public Mono<PolicyWithUsage> withUsage(String agentId, Instant dayStart, String killSwitchSetting) {
        return db.sql("SELECT p.*, u.held, u.spent, u.spent_day, s.setting_value AS kill_switch FROM agent_policies p "
                        + "CROSS JOIN (" + BudgetHoldRepository.USAGE_OF_AGENT + ") u "
                        + "LEFT JOIN settings s ON s.setting_name = :setting WHERE p.agent_id = :a")
                .bind("a", agentId).bind("since", dayStart.atOffset(ZoneOffset.UTC)).bind("setting", killSwitchSetting)
                .map(row -> new PolicyWithUsage(toPolicy(row), BudgetHoldRepository.toUsage(row),
                        row.get("kill_switch", String.class)))
                .one();
    }

    /**
     * Reads the policy and locks its row until the surrounding transaction ends: every budget decision of one agent
     * is made one after the other.
     */
    public Mono<SpendPolicy> lock(String agentId) {
        return db.sql("SELECT * FROM agent_policies WHERE agent_id = :a FOR UPDATE").bind("a", agentId)
                .map(PolicyRepository::toPolicy).one();
    }

    public Mono<Void> upsert(String agentId, SpendPolicy policy, Instant at) {
        return db.sql("DELETE FROM agent_policies WHERE agent_id = :a").bind("a", agentId).fetch().rowsUpdated()
                .then(insert(agentId, policy, at));
    }

    /**
     * Writes the policy unless the agent has one; true when this call wrote it. The agent's row is locked first, so two
     * first uses of one agent at once write one policy, the second finding the first's, rather than the second failing on
     * the key: inside a transaction (a reservation's) a failed statement ends the whole transaction on PostgreSQL.
     */
    public Mono<Boolean> insertIfAbsent(String agentId, SpendPolicy policy, Instant at) {
        Mono<Boolean> inserted = db.sql("SELECT agent_id FROM agents WHERE agent_id = :a FOR UPDATE").bind("a", agentId)
                .fetch().all()
                .then(find(agentId).hasElement())
                .flatMap(exists -> exists ? Mono.just(false) : insert(agentId, policy, at).thenReturn(true));
        return transaction.transactional(inserted)
                // An agent that does not exist (the policy's key refers to it) has no policy to write.
                .onErrorResume(org.springframework.dao.DataIntegrityViolationException.class, missing -> Mono.just(false));
    }

    public Mono<Boolean> setFrozen(String agentId, boolean frozen, Instant at) {
        return db.sql("UPDATE agent_policies SET frozen = :f, updated_at = :at WHERE agent_id = :a")
                .bind("f", frozen).bind("at", at.atOffset(ZoneOffset.UTC)).bind("a", agentId)
                .fetch().rowsUpdated().map(rows -> rows == 1);
    }

    private Mono<Void> insert(String agentId, SpendPolicy policy, Instant at) {
        var spec = db.sql("""
                        INSERT INTO agent_policies (agent_id, max_per_reservation_micros, daily_limit_micros, total_limit_micros,
                            max_price_micros_per_gpu_hour, allowed_providers, allowed_gpus, approval_threshold_micros, frozen,
                            updated_at)
                        VALUES (:a, :maxPer, :daily, :total, :maxPrice, :providers, :gpus, :approval, :frozen, :at)""")
                .bind("a", agentId).bind("frozen", policy.frozen()).bind("at", at.atOffset(ZoneOffset.UTC));
        spec = Binds.nullable(spec, "maxPer", policy.maxPerReservation().map(Usdc::micros).orElse(null), Long.class);
        spec = Binds.nullable(spec, "daily", policy.dailyLimit().map(Usdc::micros).orElse(null), Long.class);
        spec = Binds.nullable(spec, "total", policy.totalLimit().map(Usdc::micros).orElse(null), Long.class);
        spec = Binds.nullable(spec, "maxPrice", policy.maxPricePerGpuHour().map(PricePerGpuHour::microsPerGpuHour)
                .orElse(null), Long.class);
        spec = Binds.nullable(spec, "providers", join(policy.allowedProviders()), String.class);
        spec = Binds.nullable(spec, "gpus", join(policy.allowedGpus()), String.class);
        spec = Binds.nullable(spec, "approval", policy.approvalThreshold().map(Usdc::micros).orElse(null), Long.class);
        return spec.fetch().rowsUpdated().then();
    }

    private static String join(List<String> names) {
        return names.isEmpty() ? null : String.join(",", names);
    }

    private static List<String> split(String joined) {
        return joined == null || joined.isBlank() ? List.of() : Arrays.asList(joined.split(","));
    }

    private static Optional<Usdc> usdc(Readable row, String column) {
        Number value = row.get(column, Number.class);
        return value == null ? Optional.empty() : Optional.of(Usdc.ofMicros(value.longValue()));
    }

    private static SpendPolicy toPolicy(Readable row) {
        Number maxPrice = row.get("max_price_micros_per_gpu_hour", Number.class);
        return new SpendPolicy(
                usdc(row, "max_per_reservation_micros"),
                usdc(row, "daily_limit_micros"),
                usdc(row, "total_limit_micros"),
                maxPrice == null ? Optional.empty() : Optional.of(new PricePerGpuHour(maxPrice.longValue())),
                split(row.get("allowed_providers", String.class)),
                split(row.get("allowed_gpus", String.class)),
                usdc(row, "approval_threshold_micros"),
                Boolean.TRUE.equals(row.get("frozen", Boolean.class)));
    }
}
