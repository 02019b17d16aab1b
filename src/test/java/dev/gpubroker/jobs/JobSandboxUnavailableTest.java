package dev.gpubroker.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.TestPropertySource;

import io.modelcontextprotocol.client.McpSyncClient;

import dev.gpubroker.identity.NewAgent;
import dev.gpubroker.money.Usdc;
import dev.gpubroker.payments.chain.PaymentChain;
import dev.gpubroker.support.BrokerIntegrationTest;

/** A broker on a host where no sandbox can be made (here: no bubblewrap where it is told to look) runs no plain command. */
@TestPropertySource(properties = {"gpubroker.market.demo-catalog=classpath:catalogs/jobs.yml",
        "gpubroker.jobs.bubblewrap=/nonexistent/bwrap"})
class JobSandboxUnavailableTest extends BrokerIntegrationTest {

    @Autowired
    PaymentChain paymentChain;

    @Test
    void runRefusesAPlainCommandSayingHowToEnableASandboxAndChangesNothing() throws Exception {
        NewAgent agent = newAgent("no-sandbox");
        paymentChain.mintTestUsdc(agent.agent().walletAddress(), Usdc.parse("50.00"));
        McpSyncClient client = client(agent.apiKey());
        String quoteId = (String) quotes(call(client, "quote", Map.of("gpu", "H100", "durationMinutes", 60,
                "providers", List.of("demo-steady")))).getFirst().get("quoteId");
        String reservationId = (String) output(call(client, "reserve", Map.of("quoteId", quoteId,
                "idempotencyKey", "no-sandbox-reserve"))).get("reservationId");
        output(call(client, "pay", Map.of("reservationId", reservationId, "idempotencyKey", "no-sandbox-pay")));

        Map<String, Object> refused = error(call(client, "run", Map.of("reservationId", reservationId,
                "idempotencyKey", "no-sandbox-run", "command", List.of("sh", "-c", "cat /etc/shadow"))));

        assertThat(refused).containsEntry("code", "sandbox_unavailable");
        assertThat((String) refused.get("message")).contains("demo-steady", "bubblewrap is not installed",
                "apt-get install bubblewrap", "gpubroker.jobs.allow-unsandboxed=true");
        assertThat((String) refused.get("nextStep")).contains("another provider", "cancel the reservation");
        assertThat(count("jobs", "reservation_id = :r", Map.of("r", reservationId))).isZero();
        assertThat(count("reservations", "reservation_id = :r AND state = 'PAID'", Map.of("r", reservationId))).isOne();
    }
}
