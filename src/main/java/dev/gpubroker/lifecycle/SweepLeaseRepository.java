package dev.gpubroker.lifecycle;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;

import org.springframework.dao.DuplicateKeyException;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Repository;

import dev.gpubroker.platform.database.Columns;
import reactor.core.publisher.Mono;

/**
 * The leases under which the periodic sweeps run, one row per sweep: the instance that holds a sweep's lease is the
 * one whose passes run, until the lease runs out or is given back. Every call is a single statement outside any
 * transaction, so that a lost race (another instance inserting the same row at the same moment) is an answer, not a
 * failed transaction.
 */
@Repository
class SweepLeaseRepository {

    /** Where a given-back lease ends: long past, so that any instance takes it on its next tick. */
    private static final OffsetDateTime GIVEN_BACK = Instant.EPOCH.atOffset(ZoneOffset.UTC);

    private final DatabaseClient db;

    SweepLeaseRepository(DatabaseClient db) {
        this.db = db;
    }

    /**
     * Takes or renews the lease {@code name} for {@code holder} until {@code until}; true when {@code holder} holds it
     * until then after this call, false when another holder's lease runs past {@code now} (or another holder created
     * the lease at the same moment). Both times are kept to the millisecond, as the database stores them.
     */
    public Mono<Boolean> claim(String name, String holder, Instant now, Instant until) {
        OffsetDateTime nowAt = millis(now);
        OffsetDateTime untilAt = millis(until);
        return db.sql("UPDATE sweep_leases SET holder = :holder, lease_until = :until "
                        + "WHERE name = :name AND (lease_until < :now OR holder = :holder)")
                .bind("holder", holder).bind("until", untilAt).bind("name", name).bind("now", nowAt)
                .fetch().rowsUpdated()
                .flatMap(rows -> rows == 1 ? Mono.just(true) : createIfAbsent(name, holder, untilAt));
    }

    /** Gives the lease back if {@code holder} holds it, so that another instance takes it over on its next tick. */
    public Mono<Void> release(String name, String holder) {
        return db.sql("UPDATE sweep_leases SET lease_until = :givenBack WHERE name = :name AND holder = :holder")
                .bind("givenBack", GIVEN_BACK).bind("name", name).bind("holder", holder)
                .fetch().rowsUpdated().then();
    }

    /**
     * The first claim of a lease creates its row. The row is looked for first, so that a lease another instance holds
     * costs no failed statement (PostgreSQL logs every one); two instances creating it at once collide on the key, and
     * the one that loses holds nothing.
     */
    private Mono<Boolean> createIfAbsent(String name, String holder, OffsetDateTime until) {
        return db.sql("SELECT COUNT(*) AS n FROM sweep_leases WHERE name = :name").bind("name", name)
                .map(row -> Columns.longValue(row, "n")).one()
                .flatMap(rows -> rows > 0 ? Mono.just(false)
                        : db.sql("INSERT INTO sweep_leases (name, holder, lease_until) VALUES (:name, :holder, :until)")
                                .bind("name", name).bind("holder", holder).bind("until", until)
                                .fetch().rowsUpdated().map(inserted -> inserted == 1)
                                .onErrorResume(DuplicateKeyException.class, raced -> Mono.just(false)));
    }

    /**
     * Millisecond precision: a lease time is stored and later compared with another instance's time, and the databases
     * keep microseconds at most (H2 and PostgreSQL would each cut a nanosecond instant their own way).
     */
    private static OffsetDateTime millis(Instant instant) {
        return instant.truncatedTo(ChronoUnit.MILLIS).atOffset(ZoneOffset.UTC);
    }
}
