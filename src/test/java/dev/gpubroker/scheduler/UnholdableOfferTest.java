package dev.gpubroker.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.test.context.TestPropertySource;

import io.modelcontextprotocol.client.McpSyncClient;

import dev.gpubroker.support.BrokerIntegrationTest;

@TestPropertySource(properties = "gpubroker.market.demo-catalog=classpath:catalogs/unholdable.yml")
class UnholdableOfferTest extends BrokerIntegrationTest {

    @Test
    void aListedOfferThatCannotBeHeldIsRefusedAndLeavesNothingBehind() {
        McpSyncClient client = client(newAgent("unlucky").apiKey());
        String quoteId = (String) quotes(call(client, "quote", Map.of("gpu", "H100", "durationMinutes", 10)))
                .getFirst().get("quoteId");

        Map<String, Object> error = error(call(client, "reserve", Map.of("quoteId", quoteId, "idempotencyKey", "unlucky-key-1")));

        assertThat(error).containsEntry("code", "offer_unavailable");
        assertThat((String) error.get("nextStep")).contains("quote again");
        assertThat(count("reservations")).isZero();
        assertThat(count("demo_holds")).isZero();
        assertThat(count("quotes", "reserved_by IS NOT NULL", Map.of())).isZero();
    }
}
