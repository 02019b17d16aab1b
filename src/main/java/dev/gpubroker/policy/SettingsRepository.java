package dev.gpubroker.policy;

import java.time.Instant;
import java.time.ZoneOffset;

import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Repository;

import reactor.core.publisher.Mono;

@Repository
class SettingsRepository {

    private final DatabaseClient db;

    SettingsRepository(DatabaseClient db) {
        this.db = db;
    }

    public Mono<String> get(String name) {
        return db.sql("SELECT setting_value FROM settings WHERE setting_name = :n").bind("n", name)
                .map(row -> row.get("setting_value", String.class)).one();
    }

    public Mono<Void> put(String name, String value, Instant at) {
        return db.sql("DELETE FROM settings WHERE setting_name = :n").bind("n", name).fetch().rowsUpdated()
                .then(db.sql("INSERT INTO settings (setting_name, setting_value, updated_at) VALUES (:n, :v, :at)")
                        .bind("n", name).bind("v", value).bind("at", at.atOffset(ZoneOffset.UTC))
                        .fetch().rowsUpdated())
                .then();
    }
}
