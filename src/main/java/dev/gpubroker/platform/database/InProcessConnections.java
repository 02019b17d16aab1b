package dev.gpubroker.platform.database;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.concurrent.atomic.AtomicBoolean;

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
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * The embedded H2 database's connections, made to behave as a reactive driver should.
 *
 * <p>Off the event loops: r2dbc-h2 wraps H2's synchronous engine, so a statement runs, and a commit writes its chunk to
 * the file, on whichever thread subscribes, which is an HTTP event loop for a tool call, or whichever thread released
 * a pooled connection to a waiting caller (the pool hands it over on the releasing thread, so one thread ended up
 * running many callers' statements in turn while their requests waited). Every statement and transaction step here
 * runs on {@code database}, where each task gets an idle or a new thread and never waits in a queue (a statement
 * queued behind one waiting for a row lock might be the one that holds it).
 *
 * <p>A local validation that is local: the pool validates a connection on every acquire (LOCAL depth), and r2dbc-h2
 * answers every validation with a query ({@code SELECT CURRENT_TIMESTAMP}), one extra statement per statement. In the
 * same process there is no network to lose, so LOCAL is what the R2DBC specification says it is, a check that the
 * connection was not closed; REMOTE still asks the database.
 */
final class InProcessConnections implements ConnectionFactory, Wrapped<ConnectionFactory> {

    private final ConnectionFactory target;
    private final Scheduler database;

    InProcessConnections(ConnectionFactory target, Scheduler database) {
        this.target = target;
        this.database = database;
    }

    @Override
    public Publisher<? extends Connection> create() {
        return Mono.from(target.create()).subscribeOn(database).map(InProcessConnection::new);
    }

    @Override
    public ConnectionFactoryMetadata getMetadata() {
        return target.getMetadata();
    }

    @Override
    public ConnectionFactory unwrap() {
        return target;
    }

    /** Work of the database engine, subscribed to on the database's threads. */
    private <T> Mono<T> onDatabase(Publisher<T> work) {
        return Mono.from(work).subscribeOn(database);
    }

    private final class InProcessConnection implements Connection, Wrapped<Connection> {

        private final Connection target;
        private final AtomicBoolean closed = new AtomicBoolean();

        InProcessConnection(Connection target) {
            this.target = target;
        }

        @Override
        public Publisher<Boolean> validate(ValidationDepth depth) {
            return depth == ValidationDepth.LOCAL ? Mono.just(!closed.get()) : onDatabase(target.validate(depth));
        }

        @Override
        public Publisher<Void> close() {
            return Mono.defer(() -> {
                closed.set(true);
                return onDatabase(target.close());
            });
        }

        @Override
        public Connection unwrap() {
            return target;
        }

        @Override
        public Publisher<Void> beginTransaction() {
            return onDatabase(target.beginTransaction());
        }

        @Override
        public Publisher<Void> beginTransaction(TransactionDefinition definition) {
            return onDatabase(target.beginTransaction(definition));
        }

        @Override
        public Publisher<Void> commitTransaction() {
            return onDatabase(target.commitTransaction());
        }

        @Override
        public Batch createBatch() {
            Batch batch = target.createBatch();
            return new Batch() {
                @Override
                public Batch add(String sql) {
                    batch.add(sql);
                    return this;
                }

                @Override
                public Publisher<? extends Result> execute() {
                    return Flux.from(batch.execute()).subscribeOn(database);
                }
            };
        }

        @Override
        public Publisher<Void> createSavepoint(String name) {
            return onDatabase(target.createSavepoint(name));
        }

        @Override
        public Statement createStatement(String sql) {
            return new InProcessStatement(target.createStatement(sql));
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
            return onDatabase(target.releaseSavepoint(name));
        }

        @Override
        public Publisher<Void> rollbackTransaction() {
            return onDatabase(target.rollbackTransaction());
        }

        @Override
        public Publisher<Void> rollbackTransactionToSavepoint(String name) {
            return onDatabase(target.rollbackTransactionToSavepoint(name));
        }

        @Override
        public Publisher<Void> setAutoCommit(boolean autoCommit) {
            return onDatabase(target.setAutoCommit(autoCommit));
        }

        @Override
        public Publisher<Void> setLockWaitTimeout(Duration timeout) {
            return onDatabase(target.setLockWaitTimeout(timeout));
        }

        @Override
        public Publisher<Void> setStatementTimeout(Duration timeout) {
            return onDatabase(target.setStatementTimeout(timeout));
        }

        @Override
        public Publisher<Void> setTransactionIsolationLevel(IsolationLevel level) {
            return onDatabase(target.setTransactionIsolationLevel(level));
        }
    }

    /**
     * A statement whose bindings and execution both run on the database's threads. Binding is not bookkeeping in H2:
     * a long string or byte array becomes a LOB written to the file at bind time, and a bind on a timer thread that
     * Reactor interrupts (a timeout disposed as it fired) closed the file under the whole database
     * ({@code CancelledStatementsTest}). So the bindings are recorded and applied just before the execution.
     */
    private final class InProcessStatement implements Statement, Wrapped<Statement> {

        private final Statement target;
        private final List<Consumer<Statement>> steps = new ArrayList<>();

        InProcessStatement(Statement target) {
            this.target = target;
        }

        @Override
        public Publisher<? extends Result> execute() {
            List<Consumer<Statement>> recorded = List.copyOf(steps);
            return Flux.defer(() -> {
                recorded.forEach(step -> step.accept(target));
                return target.execute();
            }).subscribeOn(database);
        }

        private Statement record(Consumer<Statement> step) {
            steps.add(step);
            return this;
        }

        @Override
        public Statement add() {
            return record(Statement::add);
        }

        @Override
        public Statement bind(int index, Object value) {
            return record(statement -> statement.bind(index, value));
        }

        @Override
        public Statement bind(String name, Object value) {
            return record(statement -> statement.bind(name, value));
        }

        @Override
        public Statement bindNull(int index, Class<?> type) {
            return record(statement -> statement.bindNull(index, type));
        }

        @Override
        public Statement bindNull(String name, Class<?> type) {
            return record(statement -> statement.bindNull(name, type));
        }

        @Override
        public Statement returnGeneratedValues(String... columns) {
            return record(statement -> statement.returnGeneratedValues(columns));
        }

        @Override
        public Statement fetchSize(int rows) {
            return record(statement -> statement.fetchSize(rows));
        }

        @Override
        public Statement unwrap() {
            return target;
        }
    }
}
