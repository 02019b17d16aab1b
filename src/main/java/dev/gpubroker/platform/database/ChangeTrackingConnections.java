package dev.gpubroker.platform.database;

import java.time.Duration;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

import org.reactivestreams.Publisher;

import io.r2dbc.spi.Batch;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryMetadata;
import io.r2dbc.spi.ConnectionMetadata;
import io.r2dbc.spi.IsolationLevel;
import io.r2dbc.spi.Result;
import io.r2dbc.spi.Statement;
import io.r2dbc.spi.TransactionDefinition;
import io.r2dbc.spi.ValidationDepth;
import io.r2dbc.spi.Wrapped;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The broker's connections (the pool's), telling {@link TableChanges} which tables this instance wrote and when the
 * writes may have become visible to other connections: when a writing statement's execution ends (an auto-committed
 * write is then committed) and when the connection commits, rolls back or is released, each before the caller hears
 * of it. A read cache that compares the counters before and after its read ({@link ReadThroughCache}) therefore never
 * keeps an answer older than a write that finished before the read began.
 */
final class ChangeTrackingConnections implements ConnectionFactory, Wrapped<ConnectionFactory>, AutoCloseable {

    private final ConnectionFactory target;
    private final TableChanges changes;

    ChangeTrackingConnections(ConnectionFactory target, TableChanges changes) {
        this.target = target;
        this.changes = changes;
    }

    @Override
    public Publisher<? extends Connection> create() {
        return Mono.from(target.create()).map(TrackedConnection::new);
    }

    @Override
    public ConnectionFactoryMetadata getMetadata() {
        return target.getMetadata();
    }

    @Override
    public ConnectionFactory unwrap() {
        return target;
    }

    /** Closes a pooled target (its connections); a plain factory holds nothing. */
    @Override
    public void close() {
        if (target instanceof Disposable pool) {
            pool.dispose();
        }
    }

    private final class TrackedConnection implements Connection, Wrapped<Connection> {

        private final Connection target;
        /** The tables written since the last commit, rollback or release; null: none; guarded by this. */
        private Set<String> written;
        private boolean wroteAnything;

        TrackedConnection(Connection target) {
            this.target = target;
        }

        private synchronized void wrote(Optional<Set<String>> tables) {
            if (tables.isEmpty()) {
                wroteAnything = true;
                return;
            }
            if (written == null) {
                written = new HashSet<>();
            }
            written.addAll(tables.get());
        }

        /** The writes so far may be visible now: move their counters (again, for a transaction's). */
        private void publish(boolean andForget) {
            Set<String> tables;
            boolean everything;
            synchronized (this) {
                tables = written == null ? Set.of() : Set.copyOf(written);
                everything = wroteAnything;
                if (andForget) {
                    written = null;
                    wroteAnything = false;
                }
            }
            if (everything) {
                changes.changedEverything();
            }
            if (!tables.isEmpty()) {
                changes.changed(tables);
            }
        }

        private Mono<Void> publishingAfter(Publisher<Void> step) {
            return Mono.from(step).doOnTerminate(() -> publish(true)).doOnCancel(() -> publish(true));
        }

        @Override
        public Statement createStatement(String sql) {
            Statement statement = target.createStatement(sql);
            Optional<Set<String>> tables = WrittenTables.of(sql);
            if (tables.equals(WrittenTables.NONE)) {
                return statement;
            }
            wrote(tables);
            return new WritingStatement(statement, this);
        }

        @Override
        public Batch createBatch() {
            Batch batch = target.createBatch();
            return new Batch() {
                @Override
                public Batch add(String sql) {
                    wrote(WrittenTables.of(sql));
                    batch.add(sql);
                    return this;
                }

                @Override
                public Publisher<? extends Result> execute() {
                    return Flux.from(batch.execute()).doOnTerminate(() -> publish(false)).doOnCancel(() -> publish(false));
                }
            };
        }

        @Override
        public Publisher<Void> commitTransaction() {
            return publishingAfter(target.commitTransaction());
        }

        @Override
        public Publisher<Void> rollbackTransaction() {
            return publishingAfter(target.rollbackTransaction());
        }

        @Override
        public Publisher<Void> close() {
            return publishingAfter(target.close());
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
        public Publisher<Void> createSavepoint(String name) {
            return target.createSavepoint(name);
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

        @Override
        public Publisher<Boolean> validate(ValidationDepth depth) {
            return target.validate(depth);
        }
    }

    /** A statement that writes: its execution's end moves the counters (an auto-committed write is visible then). */
    private static final class WritingStatement implements Statement, Wrapped<Statement> {

        private final Statement target;
        private final TrackedConnection connection;

        WritingStatement(Statement target, TrackedConnection connection) {
            this.target = target;
            this.connection = connection;
        }

        @Override
        public Publisher<? extends Result> execute() {
            return Flux.from(target.execute())
                    .doOnTerminate(() -> connection.publish(false))
                    .doOnCancel(() -> connection.publish(false));
        }

        @Override
        public Statement add() {
            target.add();
            return this;
        }

        @Override
        public Statement bind(int index, Object value) {
            target.bind(index, value);
            return this;
        }

        @Override
        public Statement bind(String name, Object value) {
            target.bind(name, value);
            return this;
        }

        @Override
        public Statement bindNull(int index, Class<?> type) {
            target.bindNull(index, type);
            return this;
        }

        @Override
        public Statement bindNull(String name, Class<?> type) {
            target.bindNull(name, type);
            return this;
        }

        @Override
        public Statement returnGeneratedValues(String... columns) {
            target.returnGeneratedValues(columns);
            return this;
        }

        @Override
        public Statement fetchSize(int rows) {
            target.fetchSize(rows);
            return this;
        }

        @Override
        public Statement unwrap() {
            return target;
        }
    }
}
