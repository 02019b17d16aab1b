package dev.gpubroker.platform.database;

import io.r2dbc.spi.ConnectionFactory;
import reactor.core.scheduler.Schedulers;

/**
 * Embedded H2 connections for tests that build a part by hand, made as the server makes them: statements run on
 * threads of their own, never on the caller's (which may be one that must not block).
 */
public final class EmbeddedTestConnections {

    private EmbeddedTestConnections() {
    }

    public static ConnectionFactory offTheCallersThread(ConnectionFactory h2) {
        return new InProcessConnections(h2, Schedulers.boundedElastic());
    }
}
