package dev.gpubroker.platform.database;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.test.annotation.DirtiesContext;

import dev.gpubroker.support.BrokerIntegrationTest;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A call whose client goes away cancels its statements half-way, often during the embedded database's file writes.
 * The database must live on: a thread interrupted inside H2's file channel closes that channel, and with it the
 * whole database for every later call ("The database has been closed"), as CancelRacesTest once saw.
 */
@DirtiesContext
class CancelledStatementsTest extends BrokerIntegrationTest {

    @Autowired
    DatabaseClient db;

    @BeforeEach
    void probeTable() {
        db.sql("CREATE TABLE cancellation_probe (id BIGINT AUTO_INCREMENT PRIMARY KEY, payload VARCHAR(2000))")
                .then().block(Duration.ofSeconds(10));
    }

    @AfterEach
    void dropProbeTable() {
        db.sql("DROP TABLE IF EXISTS cancellation_probe").then().block(Duration.ofSeconds(10));
    }

    @Test
    void statementsCancelledWhileTheyWriteLeaveTheDatabaseWorking() {
        String payload = "x".repeat(2000);
        Long cancelled = Flux.range(0, 600)
                .flatMap(i -> db.sql("INSERT INTO cancellation_probe (payload) VALUES (:payload)").bind("payload", payload)
                        .fetch().rowsUpdated()
                        .timeout(Duration.ofNanos(ThreadLocalRandom.current().nextLong(50_000, 3_000_000)))
                        .map(written -> 0L)
                        .onErrorResume(java.util.concurrent.TimeoutException.class, timedOut -> Mono.just(1L))
                        // A cancelled statement runs to its end while the next one starts: in this storm the database's
                        // threads can all be busy, and a statement is refused before it runs (nothing written).
                        .onErrorResume(error -> error instanceof java.util.concurrent.RejectedExecutionException, refused -> Mono.just(0L)), 16)
                .reduce(0L, Long::sum)
                .block(Duration.ofSeconds(120));
        assertThat(cancelled).as("the test cancels statements mid-way").isPositive();

        // The cancelled statements still running finish within moments; then the database must read and write.
        Long written = db.sql("INSERT INTO cancellation_probe (payload) VALUES ('after')").fetch().rowsUpdated()
                .retryWhen(reactor.util.retry.Retry.fixedDelay(50, Duration.ofMillis(100))
                        .filter(error -> error instanceof java.util.concurrent.RejectedExecutionException))
                .then(db.sql("SELECT COUNT(*) AS n FROM cancellation_probe WHERE payload = 'after'")
                        .map(row -> row.get("n", Long.class)).one())
                .block(Duration.ofSeconds(10));
        assertThat(written).as("the database still reads and writes").isEqualTo(1L);
    }
}
