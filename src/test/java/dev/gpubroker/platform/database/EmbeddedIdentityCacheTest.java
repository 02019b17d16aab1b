package dev.gpubroker.platform.database;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.gpubroker.support.BrokerIntegrationTest;

/**
 * The embedded database reserves identity values 4096 at a time for the tables written on every call (db/h2): with
 * H2's default of 32, every 32nd audit line cost a commit of its own, a write to the file.
 */
class EmbeddedIdentityCacheTest extends BrokerIntegrationTest {

    @Test
    void theAuditLogAndTheJobEventsReserveTheirIdsInLargeSteps() {
        Map<String, Long> caches = db.sql("""
                        SELECT TABLE_NAME, IDENTITY_CACHE FROM INFORMATION_SCHEMA.COLUMNS
                        WHERE IS_IDENTITY = 'YES' AND TABLE_NAME IN ('AUDIT_LOG', 'JOB_EVENTS')""")
                .map(row -> Map.entry(row.get("TABLE_NAME", String.class), row.get("IDENTITY_CACHE", Long.class)))
                .all().collectMap(Map.Entry::getKey, Map.Entry::getValue).block();

        assertThat(caches).containsExactlyInAnyOrderEntriesOf(Map.of("AUDIT_LOG", 4096L, "JOB_EVENTS", 4096L));
    }
}
