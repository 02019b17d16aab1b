package dev.gpubroker.platform.database;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.r2dbc.h2.H2ConnectionConfiguration;
import io.r2dbc.h2.H2ConnectionFactory;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.configuration.FluentConfiguration;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.r2dbc.connection.R2dbcTransactionManager;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.transaction.reactive.TransactionalOperator;

import dev.gpubroker.config.BrokerProperties;
import dev.gpubroker.config.PrivateFiles;
import dev.gpubroker.config.StartupRefusal;
import reactor.core.Disposable;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * One database for everything: the H2 file database under the data directory by default, PostgreSQL when
 * {@code gpubroker.database.url} names one ({@code r2dbc:postgresql://user:password@host:5432/database}, see
 * docs/database.md). Migrations run before the pool is handed out, so no repository ever sees an old schema.
 */
@Configuration(proxyBeanMethods = false)
public class DatabaseConfiguration {

    private static final Logger log = LoggerFactory.getLogger(DatabaseConfiguration.class);
    // WRITE_DELAY=0: every commit reaches the file at once (H2 otherwise batches up to a second of commits in
    // memory, which a killed process would lose).
    // TRACE_LEVEL_FILE=0: no gpubroker.trace.db beside the database (H2 writes it with the default umask).
    // QUERY_CACHE_SIZE=64: each connection keeps this many parsed statements; with H2's default of 8 the statements of
    // one account call alone pushed each other out, and every query was parsed again.
    private static final String H2_OPTIONS =
            "LOCK_TIMEOUT=10000;DB_CLOSE_ON_EXIT=FALSE;WRITE_DELAY=0;TRACE_LEVEL_FILE=0;QUERY_CACHE_SIZE=64";

    /**
     * The database file is read and written through an asynchronous channel ({@code async:}), which waits out a
     * thread's interrupt and keeps it, where H2's default file channel closes itself, and the database with it, when
     * the thread that writes is interrupted. Reactor interrupts threads on purpose (a task disposed while it runs:
     * a timeout that fires as its value arrives, a cancelled subscription), and any of them may run a statement that
     * reaches the file ({@code CancelledStatementsTest}). The file is the same: an existing database opens unchanged.
     */
    private static final String H2_FILE_SYSTEM = "async:";

    /**
     * The migrations, one set for both databases (db/postgresql adds what PostgreSQL needs before them, db/h2 what H2
     * needs after them).
     */
    private static final String MIGRATIONS = "classpath:db/migration";

    private static final int CONNECTIONS_MAX = 16;
    private static final int DATABASE_THREADS_MAX = 4 * CONNECTIONS_MAX;

    /**
     * Where the embedded database's statements run (r2dbc-h2 runs them on the subscribing thread). Each task takes an
     * idle thread or a new one, never a queue: a statement queued behind one that waits for a row lock (up to
     * LOCK_TIMEOUT) could be the statement that holds the lock, and wait for it. The pool bounds how many run at once:
     * {@value #CONNECTIONS_MAX} connections, each with at most a few statements in flight; past
     * {@value #DATABASE_THREADS_MAX} threads a task is refused rather than queued.
     */
    @Bean(destroyMethod = "dispose")
    public Scheduler embeddedDatabaseThreads() {
        return newEmbeddedDatabaseThreads();
    }

    /** The embedded database's threads as described above; tests that build a part by hand use the same kind. */
    static Scheduler newEmbeddedDatabaseThreads() {
        AtomicInteger count = new AtomicInteger();
        ThreadPoolExecutor threads = new ThreadPoolExecutor(0, DATABASE_THREADS_MAX, 60, TimeUnit.SECONDS,
                new SynchronousQueue<>(), task -> {
                    Thread thread = new Thread(task, "h2-" + count.incrementAndGet());
                    thread.setDaemon(true);
                    return thread;
                });
        return new UninterruptedThreads(threads);
    }

    /**
     * A scheduler that never interrupts a statement it runs. Reactor's {@code fromExecutorService} interrupts the
     * thread of a task whose subscriber cancelled (a client that went away, a timeout, a race lost), and a thread
     * interrupted inside H2's file channel closes that channel and with it the database, for every later call
     * ({@code CancelledStatementsTest}). A cancelled statement runs to its end instead; its result is dropped.
     */
    private record UninterruptedThreads(ThreadPoolExecutor threads, Scheduler scheduler) implements Scheduler {

        UninterruptedThreads(ThreadPoolExecutor threads) {
            this(threads, Schedulers.fromExecutor(threads));
        }

        @Override
        public Disposable schedule(Runnable task) {
            return scheduler.schedule(task);
        }

        @Override
        public Worker createWorker() {
            return scheduler.createWorker();
        }

        @Override
        public void dispose() {
            scheduler.dispose();
            threads.shutdown();
        }

        @Override
        public boolean isDisposed() {
            return scheduler.isDisposed();
        }
    }

    /**
     * The broker's connections: the pool's, telling {@code changes} what this instance writes, for the read caches
     * ({@link ReadThroughCache}). Closing it disposes the pool.
     */
    @Bean(destroyMethod = "close")
    public ConnectionFactory connectionFactory(BrokerProperties properties, Scheduler embeddedDatabaseThreads,
            TableChanges changes) throws Exception {
        return new ChangeTrackingConnections(connectionPool(properties, embeddedDatabaseThreads), changes);
    }

    /** The pool of connections to the configured database, migrated first (public: a test opens a second instance's). */
    public ConnectionPool connectionPool(BrokerProperties properties, Scheduler embeddedDatabaseThreads) throws Exception {
        BrokerProperties.Database database = properties.database();
        ConnectionFactory target;
        if (database.url().isBlank()) {
            Path dataDir = PrivateFiles.dataDirectory(properties.dataDir());
            String file = dataDir.resolve("gpubroker").toString();
            migrate(Flyway.configure().dataSource("jdbc:h2:" + H2_FILE_SYSTEM + file + ";" + H2_OPTIONS, "sa", "")
                    // H2's own addition: larger identity caches (the callback says why).
                    .locations(MIGRATIONS, "classpath:db/h2"), null);
            // H2 creates its file with the process umask (often 644): the whole database is the broker's alone.
            PrivateFiles.file(dataDir.resolve("gpubroker.mv.db"));
            H2ConnectionConfiguration.Builder h2 = H2ConnectionConfiguration.builder().url(H2_FILE_SYSTEM + file)
                    .username("sa");
            for (String option : H2_OPTIONS.split(";")) {
                h2.option(option);
            }
            target = new InProcessConnections(new H2ConnectionFactory(h2.build()), embeddedDatabaseThreads);
            log.info("Database: embedded H2 file database at {}.mv.db", file);
        } else {
            ExternalDatabase external = ExternalDatabase.of(database);
            migrate(Flyway.configure().dataSource(external.jdbcUrl(), external.user(), external.password())
                    // PostgreSQL's own addition to the shared migrations (the CLOB type they name).
                    .locations(MIGRATIONS, "classpath:db/postgresql"), external);
            target = ConnectionFactories.get(external.options());
            log.info("Database: {}", external);
        }
        return new ConnectionPool(ConnectionPoolConfiguration.builder(target)
                .initialSize(2)
                .maxSize(CONNECTIONS_MAX)
                .maxAcquireTime(Duration.ofSeconds(15))
                .maxIdleTime(Duration.ofMinutes(5))
                .build());
    }

    @Bean
    public DatabaseClient databaseClient(ConnectionFactory connectionFactory) {
        return DatabaseClient.create(connectionFactory);
    }

    @Bean
    public R2dbcTransactionManager transactionManager(ConnectionFactory connectionFactory) {
        return new R2dbcTransactionManager(connectionFactory);
    }

    @Bean
    public TransactionalOperator transactionalOperator(R2dbcTransactionManager transactionManager) {
        return TransactionalOperator.create(transactionManager);
    }

    /**
     * Migrates the schema. A PostgreSQL that cannot be reached, or refuses the credentials, stops the start with one line
     * saying so ({@link DatabaseRefusals}); {@code external} is null for the embedded database.
     */
    private static void migrate(FluentConfiguration flyway, ExternalDatabase external) {
        MigrateResult result;
        try {
            result = flyway.load().migrate();
        } catch (FlywayException failure) {
            StartupRefusal refusal = external == null ? null : DatabaseRefusals.refusalFor(failure, external);
            if (refusal != null) {
                throw refusal;
            }
            throw failure;
        }
        log.info("Database schema at version {} ({} migration(s) applied now)", result.targetSchemaVersion,
                result.migrationsExecuted);
    }
}
