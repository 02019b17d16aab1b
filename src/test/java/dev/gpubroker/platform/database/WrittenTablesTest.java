package dev.gpubroker.platform.database;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import java.util.Set;

import org.junit.jupiter.api.Test;

/** Which tables a statement may write, as the read caches need to know; any doubt means "any table". */
class WrittenTablesTest {

    @Test
    void queriesWriteNothingEvenWhenTheyLockRows() {
        assertThat(WrittenTables.of("SELECT * FROM jobs WHERE job_id = :id")).isEqualTo(WrittenTables.NONE);
        assertThat(WrittenTables.of("  select * from agent_policies where agent_id = :a for update"))
                .isEqualTo(WrittenTables.NONE);
        assertThat(WrittenTables.of("-- the agent's usage\n/* one row */ SELECT 1")).isEqualTo(WrittenTables.NONE);
    }

    @Test
    void aWriteNamesItsOneTableHoweverItIsSpelt() {
        assertThat(WrittenTables.of("INSERT INTO job_events (job_id) VALUES (:id)")).hasValue(Set.of("job_events"));
        assertThat(WrittenTables.of("\n  update Jobs set state = 'RUNNING' where job_id = :id")).hasValue(Set.of("jobs"));
        assertThat(WrittenTables.of("DELETE FROM public.\"agent_policies\" WHERE agent_id = :a"))
                .hasValue(Set.of("agent_policies"));
        assertThat(WrittenTables.of("MERGE INTO settings KEY (setting_name) VALUES (:n, :v)")).hasValue(Set.of("settings"));
        assertThat(WrittenTables.of("/* a comment first */ INSERT INTO ledger_lines (a) SELECT a FROM other"))
                .hasValue(Set.of("ledger_lines"));
    }

    @Test
    void whatCannotBePlacedChangesEverything() {
        assertThat(WrittenTables.of("WITH moved AS (UPDATE jobs SET state = 'FAILED' RETURNING *) SELECT * FROM moved"))
                .isEqualTo(Optional.empty());
        assertThat(WrittenTables.of("TRUNCATE TABLE reservations")).isEqualTo(Optional.empty());
        assertThat(WrittenTables.of("CALL refresh()")).isEqualTo(Optional.empty());
        assertThat(WrittenTables.of("UPDATE")).isEqualTo(Optional.empty());
        assertThat(WrittenTables.of("")).isEqualTo(Optional.empty());
    }
}
