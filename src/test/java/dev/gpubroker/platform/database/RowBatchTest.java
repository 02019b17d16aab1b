package dev.gpubroker.platform.database;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;
import org.springframework.r2dbc.core.DatabaseClient;

import io.r2dbc.h2.H2ConnectionConfiguration;
import io.r2dbc.h2.H2ConnectionFactory;

/** A full batch on the embedded database: every row and every null lands where it was set, in one statement. */
class RowBatchTest {

    private final DatabaseClient db = DatabaseClient.create(EmbeddedTestConnections.offTheCallersThread(
            new H2ConnectionFactory(H2ConnectionConfiguration.builder().inMemory("rowbatch-" + System.nanoTime())
                    .option("DB_CLOSE_DELAY=-1").build())));

    private record Line(int id, String text, Long amount) {
    }

    @Test
    void aThousandRowsWithNullsAreWrittenAsSet() {
        db.sql("CREATE TABLE lines (id INT PRIMARY KEY, text VARCHAR(40), amount BIGINT)").then().block(Duration.ofSeconds(10));
        List<Line> lines = IntStream.range(0, RowBatch.ROWS_MAX)
                .mapToObj(i -> new Line(i, i % 3 == 0 ? null : "line " + i, i % 5 == 0 ? null : 1_000L * i)).toList();

        Long written = RowBatch.insert(db, "lines", List.of("id", "text", "amount"), lines, (row, line) -> row
                .set(0, line.id()).setNullable(1, line.text(), String.class).setNullable(2, line.amount(), Long.class))
                .block(Duration.ofSeconds(30));

        assertThat(written).isEqualTo(RowBatch.ROWS_MAX);
        List<Line> read = db.sql("SELECT id, text, amount FROM lines ORDER BY id")
                .map(row -> new Line(row.get("id", Integer.class), row.get("text", String.class), row.get("amount", Long.class)))
                .all().collectList().block(Duration.ofSeconds(10));
        assertThat(read).isEqualTo(lines);
    }

    @Test
    void aColumnLeftUnsetIsRefusedBeforeAnythingIsWritten() {
        db.sql("CREATE TABLE lines (id INT PRIMARY KEY, text VARCHAR(40))").then().block(Duration.ofSeconds(10));

        assertThatThrownBy(() -> RowBatch.insert(db, "lines", List.of("id", "text"), List.of(1, 2),
                        (row, id) -> row.set(0, id).set(1, id == 1 ? "one" : null)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("row 1 has no value for text");
        assertThat(db.sql("SELECT count(*) AS n FROM lines").map(row -> row.get("n", Long.class)).one()
                .block(Duration.ofSeconds(10))).isZero();
    }
}
