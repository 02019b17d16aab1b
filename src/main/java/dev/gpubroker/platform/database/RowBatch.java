package dev.gpubroker.platform.database;

import java.util.Arrays;
import java.util.List;

import org.springframework.r2dbc.core.DatabaseClient;

import io.r2dbc.spi.Parameters;

import reactor.core.publisher.Mono;

/**
 * Many rows of one table in one multi-row INSERT: one statement, so one commit of its own (or a part of the caller's
 * transaction), and one round trip. With the embedded H2 a commit is what costs: WRITE_DELAY=0 makes every commit write
 * a chunk to the file, so ten rows in ten commits cost about ten times one commit of ten rows. The statement takes
 * positional parameters ({@code $1}, {@code $2}, ...), which both H2 and PostgreSQL read.
 */
public final class RowBatch {

    /** 1,000 rows of up to 32 columns stay far below PostgreSQL's 65,535 parameters per statement. */
    public static final int ROWS_MAX = 1_000;
    private static final int COLUMNS_MAX = 32;

    private RowBatch() {
    }

    /** The values of one row, by column position (0 for the first column named in the INSERT). */
    public interface Row {

        Row set(int column, Object value);

        /** R2DBC needs the type of a null parameter. */
        Row setNullable(int column, Object value, Class<?> type);
    }

    @FunctionalInterface
    public interface RowWriter<T> {
        void write(Row row, T item);
    }

    /**
     * Inserts {@code items} into {@code table}'s {@code columns}, one row each, in one statement; answers how many
     * rows were written.
     */
    public static <T> Mono<Long> insert(DatabaseClient db, String table, List<String> columns, List<T> items,
            RowWriter<T> writer) {
        if (items.isEmpty()) {
            return Mono.just(0L);
        }
        if (items.size() > ROWS_MAX || columns.size() > COLUMNS_MAX) {
            throw new IllegalArgumentException("a batch is at most " + ROWS_MAX + " rows of " + COLUMNS_MAX
                    + " columns, got " + items.size() + " of " + columns.size());
        }
        int width = columns.size();
        StringBuilder sql = new StringBuilder("INSERT INTO ").append(table).append(" (")
                .append(String.join(", ", columns)).append(") VALUES ");
        for (int row = 0; row < items.size(); row++) {
            sql.append(row == 0 ? "(" : ", (");
            for (int column = 0; column < width; column++) {
                sql.append(column == 0 ? "$" : ", $").append(row * width + column + 1);
            }
            sql.append(')');
        }
        // One list bound at once: each bind() of Spring's spec copies every binding made before it, which made a batch
        // quadratic in its parameters (a full audit batch of 1,000 rows took a fifth of the broker's CPU under load).
        Object[] values = new Object[items.size() * width];
        for (int index = 0; index < items.size(); index++) {
            int offset = index * width;
            writer.write(new Row() {
                @Override
                public Row set(int column, Object value) {
                    values[offset + checked(column, width)] = value;
                    return this;
                }

                @Override
                public Row setNullable(int column, Object value, Class<?> type) {
                    values[offset + checked(column, width)] = value == null ? Parameters.in(type) : value;
                    return this;
                }
            }, items.get(index));
        }
        for (int at = 0; at < values.length; at++) {
            if (values[at] == null) {
                throw new IllegalArgumentException("row " + at / width + " has no value for " + columns.get(at % width)
                        + " (a null needs setNullable)");
            }
        }
        return db.sql(sql.toString()).bindValues(Arrays.asList(values)).fetch().rowsUpdated();
    }

    private static int checked(int column, int width) {
        if (column < 0 || column >= width) {
            throw new IllegalArgumentException("column " + column + " of " + width);
        }
        return column;
    }
}
