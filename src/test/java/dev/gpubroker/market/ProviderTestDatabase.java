package dev.gpubroker.market;

import java.nio.file.Path;
import java.time.Clock;

import org.flywaydb.core.Flyway;
import org.springframework.r2dbc.connection.R2dbcTransactionManager;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.transaction.reactive.TransactionalOperator;

import dev.gpubroker.platform.database.EmbeddedTestConnections;
import io.r2dbc.h2.H2ConnectionConfiguration;
import io.r2dbc.h2.H2ConnectionFactory;
import io.r2dbc.spi.ConnectionFactory;

/** A real H2 file database with the broker's migrations, for the capacity a hosted market counts in it. */
public final class ProviderTestDatabase {

    private ProviderTestDatabase() {
    }

    public static HostedCapacity capacity(Path dir) {
        String file = dir.resolve("gpubroker").toAbsolutePath().toString();
        Flyway.configure().dataSource("jdbc:h2:file:" + file, "sa", "").locations("classpath:db/migration").load().migrate();
        ConnectionFactory connections = EmbeddedTestConnections.offTheCallersThread(new H2ConnectionFactory(
                H2ConnectionConfiguration.builder().file(file).username("sa").option("LOCK_TIMEOUT=10000").build()));
        return new HostedCapacity(DatabaseClient.create(connections),
                TransactionalOperator.create(new R2dbcTransactionManager(connections)), Clock.systemUTC());
    }
}
