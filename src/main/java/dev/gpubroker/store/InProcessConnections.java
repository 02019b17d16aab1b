package dev.gpubroker.store;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

import org.reactivestreams.Publisher;

import io.r2dbc.spi.Batch;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryMetadata;
import io.r2dbc.spi.ConnectionMetadata;
import io.r2dbc.spi.IsolationLevel;
import io.r2dbc.spi.Statement;
import io.r2dbc.spi.TransactionDefinition;
import io.r2dbc.spi.ValidationDepth;
import io.r2dbc.spi.Wrapped;
import reactor.core.publisher.Mono;

/**
 * The embedded H2 database's connections, with a local validation that is local. The pool validates a connection on
 * every acquire (LOCAL depth), and r2dbc-h2 answers every validation with a query ({@code SELECT CURRENT_TIMESTAMP}):
 * one extra statement per statement. In the same process there is no network to lose, so LOCAL is what the R2DBC
 * specification says it is, a check that the connection was not closed; REMOTE still asks the database.
 */
final class InProcessConnections implements ConnectionFactory, Wrapped<ConnectionFactory> {

    private final ConnectionFactory target;

    InProcessConnections(ConnectionFactory target) {
        this.target = target;
    }

    @Override
    public Publisher<? extends Connection> create() {
        return Mono.from(target.create()).map(LocallyValidated::new);
    }

    @Override
    public ConnectionFactoryMetadata getMetadata() {
        return target.getMetadata();
    }

    @Override
    public ConnectionFactory unwrap() {
        return target;
    }

    private static final class LocallyValidated implements Connection, Wrapped<Connection> {

        private final Connection target;
        private final AtomicBoolean closed = new AtomicBoolean();

        LocallyValidated(Connection target) {
            this.target = target;
        }

        @Override
        public Publisher<Boolean> validate(ValidationDepth depth) {
            return depth == ValidationDepth.LOCAL ? Mono.just(!closed.get()) : target.validate(depth);
        }

        @Override
        public Publisher<Void> close() {
            return Mono.defer(() -> {
                closed.set(true);
                return Mono.from(target.close());
            });
        }

        @Override
        public Connection unwrap() {
            return target;
        }

        @Override
        public Publisher<Void> beginTransaction() {
            return target.beginTransaction();
        }

        @Override
        public Publisher<Void> beginTransaction(TransactionDefinition definition) {
            return target.beginTransaction(definition);
        }

        @Override
        public Publisher<Void> commitTransaction() {
            return target.commitTransaction();
        }

        @Override
        public Batch createBatch() {
            return target.createBatch();
        }

        @Override
        public Publisher<Void> createSavepoint(String name) {
            return target.createSavepoint(name);
        }

        @Override
        public Statement createStatement(String sql) {
            return target.createStatement(sql);
        }

        @Override
        public boolean isAutoCommit() {
            return target.isAutoCommit();
        }

        @Override
        public ConnectionMetadata getMetadata() {
            return target.getMetadata();
        }

        @Override
        public IsolationLevel getTransactionIsolationLevel() {
            return target.getTransactionIsolationLevel();
        }

        @Override
        public Publisher<Void> releaseSavepoint(String name) {
            return target.releaseSavepoint(name);
        }

        @Override
        public Publisher<Void> rollbackTransaction() {
            return target.rollbackTransaction();
        }

        @Override
        public Publisher<Void> rollbackTransactionToSavepoint(String name) {
            return target.rollbackTransactionToSavepoint(name);
        }

        @Override
        public Publisher<Void> setAutoCommit(boolean autoCommit) {
            return target.setAutoCommit(autoCommit);
        }

        @Override
        public Publisher<Void> setLockWaitTimeout(Duration timeout) {
            return target.setLockWaitTimeout(timeout);
        }

        @Override
        public Publisher<Void> setStatementTimeout(Duration timeout) {
            return target.setStatementTimeout(timeout);
        }

        @Override
        public Publisher<Void> setTransactionIsolationLevel(IsolationLevel level) {
            return target.setTransactionIsolationLevel(level);
        }
    }
}
