package dev.gpubroker.store;

import java.util.List;
import java.util.function.BiConsumer;

import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.transaction.reactive.TransactionalOperator;

import io.r2dbc.spi.Result;
import io.r2dbc.spi.Statement;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Many rows of one table in one statement (R2DBC's batch of bindings, {@link Statement#add()}) and one commit, in the
 * caller's transaction when there is one. With the embedded H2 a commit is what costs: WRITE_DELAY=0 makes every
 * commit write a new chunk to the file, so ten rows in ten commits cost about ten times one commit of ten rows.
 * The SQL takes positional parameters ({@code $1}, {@code $2}, ...), which both H2 and PostgreSQL read.
 */
final class RowBatch {

    private RowBatch() {
    }

    /** Inserts the rows; answers how many were written. */
    static <T> Mono<Long> insert(DatabaseClient db, TransactionalOperator transaction, String sql, List<T> rows,
            BiConsumer<Statement, T> binder) {
        if (rows.isEmpty()) {
            return Mono.just(0L);
        }
        return transaction.transactional(db.inConnection(connection -> {
            Statement statement = connection.createStatement(sql);
            for (int i = 0; i < rows.size(); i++) {
                if (i > 0) {
                    statement.add();
                }
                binder.accept(statement, rows.get(i));
            }
            return Flux.from(statement.execute()).concatMap(Result::getRowsUpdated).reduce(0L, Long::sum);
        }));
    }

    /** R2DBC needs the type of a null parameter. */
    static void bindNullable(Statement statement, int index, Object value, Class<?> type) {
        if (value == null) {
            statement.bindNull(index, type);
        } else {
            statement.bind(index, value);
        }
    }
}
