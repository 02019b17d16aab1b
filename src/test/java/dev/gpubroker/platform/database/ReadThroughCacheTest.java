package dev.gpubroker.platform.database;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.r2dbc.connection.R2dbcTransactionManager;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.transaction.reactive.TransactionalOperator;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.r2dbc.h2.H2ConnectionConfiguration;
import io.r2dbc.h2.H2ConnectionFactory;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * A read cache on a real embedded database, through the broker's connections ({@link ChangeTrackingConnections}): a
 * write on this instance is seen by the very next read, auto-committed or in a transaction, and a read that ran while
 * a write was under way is not kept; a write this instance did not make (another instance's, on a shared database)
 * shows within the expiry.
 */
class ReadThroughCacheTest {

    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final Duration EXPIRY = Duration.ofSeconds(2);

    private final ConnectionPool pool = new ConnectionPool(ConnectionPoolConfiguration.builder(
            EmbeddedTestConnections.offTheCallersThread(new H2ConnectionFactory(H2ConnectionConfiguration.builder()
                    .inMemory("readcache-" + System.nanoTime()).option("DB_CLOSE_DELAY=-1").build())))
            .maxSize(4).build());
    private final TableChanges changes = new TableChanges();
    /** This instance's connections, as the broker makes them: one factory for statements and transactions alike. */
    private final ChangeTrackingConnections connections = new ChangeTrackingConnections(pool, changes);
    private final DatabaseClient db = DatabaseClient.create(connections);
    /** Another instance's connections to the same database: its writes move none of this instance's counters. */
    private final DatabaseClient otherInstance = DatabaseClient.create(pool);
    private final TransactionalOperator transaction = TransactionalOperator.create(
            new R2dbcTransactionManager(connections));
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final Counter hits = registry.counter("hits");
    private final Counter misses = registry.counter("misses");

    ReadThroughCacheTest() {
        db.sql("CREATE TABLE balances (agent_id VARCHAR(20) PRIMARY KEY, amount BIGINT)").then()
                .then(db.sql("CREATE TABLE notes (id INT)").then())
                .then(db.sql("INSERT INTO balances VALUES ('a', 100), ('b', 200)").then()).block(WAIT);
    }

    @AfterEach
    void closePool() {
        pool.dispose();
    }

    private ReadThroughCache<String, Long> cache(Duration expiry) {
        return new ReadThroughCache<>(changes.watch(List.of("balances")), expiry, 100, hits, misses);
    }

    private Mono<Long> amountOf(String agentId) {
        return db.sql("SELECT amount FROM balances WHERE agent_id = :a").bind("a", agentId)
                .map(row -> row.get("amount", Long.class)).one();
    }

    private Long read(ReadThroughCache<String, Long> cache, String agentId) {
        return cache.read(agentId, () -> amountOf(agentId)).block(WAIT);
    }

    private Mono<Void> setAmount(DatabaseClient client, String agentId, long amount) {
        return client.sql("UPDATE balances SET amount = :m WHERE agent_id = :a").bind("m", amount).bind("a", agentId)
                .fetch().rowsUpdated().then();
    }

    @Test
    void aReadIsAnsweredFromMemoryUntilAWriteOnThisInstanceThenAtOnceFromTheDatabase() {
        ReadThroughCache<String, Long> cache = cache(EXPIRY);

        assertThat(read(cache, "a")).isEqualTo(100);
        assertThat(read(cache, "a")).isEqualTo(100);
        assertThat(read(cache, "b")).isEqualTo(200);
        assertThat(hits.count()).isEqualTo(1);
        assertThat(misses.count()).isEqualTo(2);

        db.sql("INSERT INTO notes VALUES (1)").then().block(WAIT);
        assertThat(read(cache, "a")).as("a table the read does not depend on").isEqualTo(100);
        assertThat(hits.count()).isEqualTo(2);

        setAmount(db, "a", 150).block(WAIT);
        assertThat(read(cache, "a")).as("the very next read after an auto-committed write").isEqualTo(150);
        assertThat(read(cache, "b")).as("any write to the table goes for every agent's answer").isEqualTo(200);
        assertThat(misses.count()).isEqualTo(4);
        assertThat(read(cache, "a")).isEqualTo(150);
        assertThat(hits.count()).isEqualTo(3);
    }

    @Test
    void aReadDuringAnOpenTransactionIsNotKeptPastItsCommit() throws Exception {
        ReadThroughCache<String, Long> cache = cache(EXPIRY);
        assertThat(read(cache, "a")).isEqualTo(100);
        CountDownLatch written = new CountDownLatch(1);
        CountDownLatch readMeanwhile = new CountDownLatch(1);
        Long[] seenMeanwhile = {null};

        var committed = transaction.transactional(setAmount(db, "a", 300)
                .then(Mono.fromRunnable(written::countDown))
                // The transaction stays open until the other read is done.
                .then(Mono.fromCallable(() -> readMeanwhile.await(10, TimeUnit.SECONDS))
                        .subscribeOn(Schedulers.boundedElastic())))
                .subscribeOn(Schedulers.boundedElastic()).toFuture();
        assertThat(written.await(10, TimeUnit.SECONDS)).isTrue();
        // Outside the transaction: its write is not committed, so this reads (and may keep) the old amount.
        seenMeanwhile[0] = read(cache, "a");
        readMeanwhile.countDown();
        committed.get(10, TimeUnit.SECONDS);

        assertThat(seenMeanwhile[0]).isEqualTo(100);
        assertThat(read(cache, "a")).as("the commit makes whatever was read before it stale").isEqualTo(300);
    }

    @Test
    void aRolledBackWriteLeavesTheAnswerAsItWas() {
        ReadThroughCache<String, Long> cache = cache(EXPIRY);
        assertThat(read(cache, "a")).isEqualTo(100);

        transaction.transactional(setAmount(db, "a", 999).then(Mono.error(new IllegalStateException("refused"))))
                .onErrorResume(IllegalStateException.class, refused -> Mono.empty()).block(WAIT);

        assertThat(read(cache, "a")).isEqualTo(100);
    }

    @Test
    void anotherInstancesWriteShowsWithinTheExpiry() throws Exception {
        ReadThroughCache<String, Long> cache = cache(EXPIRY);
        assertThat(read(cache, "a")).isEqualTo(100);

        setAmount(otherInstance, "a", 700).block(WAIT);
        assertThat(read(cache, "a")).as("kept: this instance cannot know of the write").isEqualTo(100);

        Thread.sleep(EXPIRY.plusMillis(200).toMillis());
        assertThat(read(cache, "a")).isEqualTo(700);
    }

    @Test
    void nothingFoundIsNotKeptAndAZeroExpiryReadsTheDatabaseEveryTime() {
        ReadThroughCache<String, Long> cache = cache(EXPIRY);
        assertThat(cache.read("c", () -> amountOf("c")).blockOptional(WAIT)).isEmpty();
        otherInstance.sql("INSERT INTO balances VALUES ('c', 5)").then().block(WAIT);
        assertThat(read(cache, "c")).isEqualTo(5);

        ReadThroughCache<String, Long> off = cache(Duration.ZERO);
        assertThat(read(off, "a")).isEqualTo(100);
        setAmount(otherInstance, "a", 1).block(WAIT);
        assertThat(read(off, "a")).isEqualTo(1);
    }

    @Test
    void aStatementTheBrokerCannotPlaceMakesEveryAnswerStale() {
        ReadThroughCache<String, Long> cache = cache(EXPIRY);
        assertThat(read(cache, "a")).isEqualTo(100);
        setAmount(otherInstance, "a", 42).block(WAIT);

        db.sql("TRUNCATE TABLE notes").then().block(WAIT);

        assertThat(read(cache, "a")).isEqualTo(42);
    }
}
