package dev.gpubroker.identity;

import java.time.ZoneOffset;

import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Repository;

import dev.gpubroker.platform.database.Binds;
import dev.gpubroker.platform.database.Columns;
import io.r2dbc.spi.Readable;
import reactor.core.publisher.Mono;

@Repository
class AgentRepository {

    private static final String COLUMNS = "agent_id, name, wallet_address, wallet_custody, created_at";

    private final DatabaseClient db;

    AgentRepository(DatabaseClient db) {
        this.db = db;
    }

    public Mono<Void> insert(Agent agent, String apiKeyHash) {
        return Binds.nullable(db.sql("INSERT INTO agents (agent_id, name, api_key_hash, wallet_address, wallet_custody, created_at) "
                                + "VALUES (:id, :name, :hash, :wallet, :custody, :createdAt)")
                        .bind("id", agent.agentId())
                        .bind("custody", agent.custody().name())
                        .bind("name", agent.name())
                        .bind("hash", apiKeyHash)
                        .bind("createdAt", agent.createdAt().atOffset(ZoneOffset.UTC)), "wallet", agent.walletAddress(), String.class)
                .then();
    }

    public Mono<Agent> findByApiKeyHash(String apiKeyHash) {
        return db.sql("SELECT " + COLUMNS + " FROM agents WHERE api_key_hash = :hash")
                .bind("hash", apiKeyHash)
                .map(AgentRepository::toAgent)
                .one();
    }

    public Mono<Agent> findById(String agentId) {
        return db.sql("SELECT " + COLUMNS + " FROM agents WHERE agent_id = :id")
                .bind("id", agentId)
                .map(AgentRepository::toAgent)
                .one();
    }

    public reactor.core.publisher.Flux<Agent> list(int limit, int offset) {
        return db.sql("SELECT " + COLUMNS + " FROM agents ORDER BY created_at, agent_id LIMIT :limit OFFSET :offset")
                .bind("limit", limit).bind("offset", offset)
                .map(AgentRepository::toAgent).all();
    }

    public Mono<Boolean> replaceKeyHash(String agentId, String apiKeyHash) {
        return db.sql("UPDATE agents SET api_key_hash = :hash WHERE agent_id = :id")
                .bind("hash", apiKeyHash).bind("id", agentId)
                .fetch().rowsUpdated().map(rows -> rows == 1);
    }

    public Mono<Long> count() {
        return db.sql("SELECT COUNT(*) FROM agents").map(row -> row.get(0, Long.class)).one();
    }

    private static Agent toAgent(Readable row) {
        return new Agent(row.get("agent_id", String.class), row.get("name", String.class),
                row.get("wallet_address", String.class),
                Agent.WalletCustody.valueOf(row.get("wallet_custody", String.class).toUpperCase(java.util.Locale.ROOT)),
                Columns.instant(row, "created_at"));
    }
}
