package dev.gpubroker.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.test.context.TestPropertySource;

import io.modelcontextprotocol.client.McpSyncClient;

import dev.gpubroker.support.BrokerIntegrationTest;

@TestPropertySource(properties = {
        "gpubroker.market.demo-catalog=classpath:catalogs/capacity-one.yml",
        "gpubroker.reservations.hold-ttl=1500ms"})
class HoldExpiryTest extends BrokerIntegrationTest {

    @Test
    void anUnpaidHoldExpiresAndItsCapacityIsFreedForTheNextAgent() throws Exception {
        McpSyncClient first = client(newAgent("first").apiKey());
        McpSyncClient second = client(newAgent("second").apiKey());
        String firstQuote = quoteId(first);
        String secondQuote = quoteId(second);
        Map<String, Object> held = output(call(first, "reserve", Map.of("quoteId", firstQuote, "idempotencyKey", "first-key-1")));
        assertThat(held).containsEntry("status", "held");

        // While held, the single GPU is taken: new quotes no longer list it, and a quote taken before cannot hold it.
        assertThat(quotes(call(second, "quote", Map.of("gpu", "H100", "durationMinutes", 10)))).isEmpty();
        assertThat(error(call(second, "reserve", Map.of("quoteId", secondQuote, "idempotencyKey", "second-key-1"))))
                .containsEntry("code", "no_capacity");

        String reservationId = (String) held.get("reservationId");
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (count("reservations", "reservation_id = :r AND state = 'EXPIRED' AND capacity_released = TRUE",
                Map.of("r", reservationId)) == 0) {
            assertThat(System.nanoTime()).as("the hold should have expired by now").isLessThan(deadline);
            Thread.sleep(100);
        }

        assertThat(output(call(second, "reserve", Map.of("quoteId", quoteId(second), "idempotencyKey", "second-key-2"))))
                .containsEntry("status", "held");
        // The agent that let its hold lapse sees what happened when it retries its call.
        assertThat(output(call(first, "reserve", Map.of("quoteId", held.get("quoteId"), "idempotencyKey", "first-key-1"))))
                .containsEntry("status", "expired").containsEntry("replayed", true)
                .hasEntrySatisfying("statusReason", reason -> assertThat(reason).asString().contains("hold expired"));
    }

    private String quoteId(McpSyncClient client) {
        return (String) quotes(call(client, "quote", Map.of("gpu", "H100", "durationMinutes", 10))).getFirst().get("quoteId");
    }
}
