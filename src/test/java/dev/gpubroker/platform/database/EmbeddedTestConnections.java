package dev.gpubroker.platform.database;

import io.r2dbc.spi.ConnectionFactory;
import reactor.core.scheduler.Scheduler;

/**
 * Embedded H2 connections for tests that build a part by hand, made as the server makes them: statements run on
 * threads of their own, never on the caller's (which may be one that must not block), and never queued behind other
 * work. Reactor's shared boundedElastic queues a task once its threads are busy (other tests' contexts in the same JVM
 * keep them busy), and a commit queued behind statements waiting for its row lock timed out
 * LocalProviderCapacityTest's concurrent holds after H2's 10 s LOCK_TIMEOUT.
 */
public final class EmbeddedTestConnections {

    private static final Scheduler DATABASE_THREADS = DatabaseConfiguration.newEmbeddedDatabaseThreads();

    private EmbeddedTestConnections() {
    }

    public static ConnectionFactory offTheCallersThread(ConnectionFactory h2) {
        return new InProcessConnections(h2, DATABASE_THREADS);
    }
}
