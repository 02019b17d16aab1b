package dev.gpubroker.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;
import org.springframework.test.context.TestPropertySource;

import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;

import dev.gpubroker.support.BrokerIntegrationTest;

@TestPropertySource(properties = "gpubroker.market.demo-catalog=classpath:catalogs/capacity-ten.yml")
class ReserveConcurrencyTest extends BrokerIntegrationTest {

    private static final int RESERVES = 50;
    private static final int CAPACITY = 10;

    @Test
    void fiftyParallelReservesAgainstCapacityTenGiveExactlyTenReservations() throws Exception {
        String apiKey = newAgent("stampede").apiKey();
        List<McpSyncClient> clients = List.of(client(apiKey), client(apiKey), client(apiKey), client(apiKey), client(apiKey));
        List<String> quoteIds = new ArrayList<>();
        for (int i = 0; i < RESERVES; i++) {
            quoteIds.add((String) quotes(call(clients.get(i % clients.size()), "quote",
                    Map.of("gpu", "H100", "durationMinutes", 30))).getFirst().get("quoteId"));
        }

        Map<String, Integer> outcomes = new ConcurrentHashMap<>();
        CountDownLatch start = new CountDownLatch(1);
        try (ExecutorService pool = Executors.newFixedThreadPool(RESERVES)) {
            List<Future<?>> calls = new ArrayList<>();
            for (int i = 0; i < RESERVES; i++) {
                int index = i;
                calls.add(pool.submit(() -> {
                    start.await();
                    CallToolResult result = call(clients.get(index % clients.size()), "reserve",
                            Map.of("quoteId", quoteIds.get(index), "idempotencyKey", "stampede-" + index));
                    String outcome = Boolean.TRUE.equals(result.isError())
                            ? (String) error(result).get("code")
                            : (String) output(result).get("status");
                    outcomes.merge(outcome, 1, Integer::sum);
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> call : calls) {
                call.get();
            }
        }

        assertThat(outcomes).containsOnly(Map.entry("held", CAPACITY), Map.entry("no_capacity", RESERVES - CAPACITY));
        assertThat(count("reservations", "state = 'HELD'", Map.of())).isEqualTo(CAPACITY);
        assertThat(count("reservations")).isEqualTo(CAPACITY);
        assertThat(count("demo_holds", "released = FALSE", Map.of())).isEqualTo(CAPACITY);
        long heldUnits = db.sql("SELECT held_units FROM demo_capacity WHERE offer_id = 'scarce-h100'")
                .map(row -> row.get("held_units", Number.class).longValue()).one().block(Duration.ofSeconds(5));
        assertThat(heldUnits).isEqualTo(CAPACITY);
        // The refused calls gave their quotes back: nothing is left half-claimed.
        assertThat(count("quotes", "reserved_by IS NOT NULL", Map.of())).isEqualTo(CAPACITY);
    }

    @Test
    void concurrentRetriesWithOneIdempotencyKeyMakeOneReservation() throws Exception {
        String apiKey = newAgent("double-clicker").apiKey();
        List<McpSyncClient> clients = List.of(client(apiKey), client(apiKey), client(apiKey));
        String quoteId = (String) quotes(call(clients.getFirst(), "quote",
                Map.of("gpu", "L40S", "durationMinutes", 5))).getFirst().get("quoteId");

        CountDownLatch start = new CountDownLatch(1);
        List<Future<CallToolResult>> calls = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(12)) {
            for (int i = 0; i < 12; i++) {
                McpSyncClient client = clients.get(i % clients.size());
                calls.add(pool.submit(() -> {
                    start.await();
                    return call(client, "reserve", Map.of("quoteId", quoteId, "idempotencyKey", "one-key-many-calls"));
                }));
            }
            start.countDown();
        }

        List<String> reservationIds = new ArrayList<>();
        for (Future<CallToolResult> call : calls) {
            CallToolResult result = call.get();
            if (Boolean.TRUE.equals(result.isError())) {
                // A call that arrives while the first is still holding is told to retry; it never holds twice.
                assertThat(error(result)).containsEntry("code", "in_progress");
            } else {
                reservationIds.add((String) output(result).get("reservationId"));
            }
        }
        assertThat(reservationIds).isNotEmpty().containsOnly(reservationIds.getFirst());
        assertThat(count("reservations", "quote_id = :q", Map.of("q", quoteId))).isEqualTo(1);
        assertThat(count("demo_holds", "hold_id = :h", Map.of("h", reservationIds.getFirst()))).isEqualTo(1);
    }
}
