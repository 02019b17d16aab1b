package dev.gpubroker.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.test.context.TestPropertySource;

import io.modelcontextprotocol.client.McpSyncClient;

import dev.gpubroker.identity.NewAgent;
import dev.gpubroker.money.Usdc;
import dev.gpubroker.support.BrokerIntegrationTest;

/**
 * A run must end, and leave time to settle it, before the escrow deadline: past it the payer may take the deposit back
 * and the seller could never be paid. Here deposits get no time beyond the hold and the paid duration, so no run fits.
 */
@TestPropertySource(properties = {
        "gpubroker.market.demo-catalog=classpath:catalogs/jobs.yml",
        "gpubroker.chain.escrow-deadline-after-run=0s",
        "gpubroker.jobs.escrow-deadline-margin=1h"})
class EscrowDeadlineTest extends BrokerIntegrationTest {

    @org.springframework.beans.factory.annotation.Autowired
    dev.gpubroker.payments.chain.PaymentChain paymentChain;

    @Test
    void aRunThatCouldNotBeSettledBeforeTheEscrowDeadlineIsRefusedAndChangesNothing() throws Exception {
        NewAgent agent = newAgent("late-runner");
        paymentChain.mintTestUsdc(agent.agent().walletAddress(), Usdc.parse("10.00"));
        McpSyncClient client = client(agent.apiKey());
        String reservationId = paidReservation(client, "H100", "demo-steady", 5, "late");

        Map<String, Object> refused = error(call(client, "run", Map.of("reservationId", reservationId,
                "idempotencyKey", "late-run-1", "maxDurationMinutes", 1, "command", List.of("true"))));

        assertThat(refused).containsEntry("code", "escrow_deadline_too_close").containsEntry("field", "reservationId");
        assertThat((String) refused.get("message")).contains("escrow deadline");
        assertThat((String) refused.get("nextStep")).contains("cancel");
        assertThat(count("jobs", "reservation_id = :r", Map.of("r", reservationId))).isZero();
        assertThat(count("reservations", "reservation_id = :r AND state = 'PAID'", Map.of("r", reservationId))).isEqualTo(1);

        // The way out the refusal names: a full refund.
        output(call(client, "cancel", Map.of("reservationId", reservationId, "idempotencyKey", "late-cancel")));
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (count("reservations", "reservation_id = :r AND state = 'REFUNDED'", Map.of("r", reservationId)) == 0) {
            assertThat(System.nanoTime()).as("refunded in full").isLessThan(deadline);
            Thread.sleep(100);
        }
        assertThat(output(call(client, "account", Map.of()))).containsEntry("usdcBalance", "10.00");
    }
}
