package dev.gpubroker.payments;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.test.context.TestPropertySource;

import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;

import dev.gpubroker.identity.NewAgent;
import dev.gpubroker.money.Usdc;
import dev.gpubroker.payments.chain.PaymentChain;
import dev.gpubroker.support.AdminClient;
import dev.gpubroker.support.BrokerIntegrationTest;

/**
 * The account tool shows the wallet's balance as the chain holds it, however large; read once per block, it follows
 * the broker's own payments at once and anyone else's transfers within about a second. On the payment tests' catalog:
 * the reservations these tests leave open would take most of the default catalog's four L40S from the test classes
 * that share its context.
 */
@TestPropertySource(properties = "gpubroker.market.demo-catalog=classpath:catalogs/payments.yml")
class AccountBalanceTest extends BrokerIntegrationTest {

    @Autowired
    PaymentChain paymentChain;

    @Value("${gpubroker.data-dir}")
    String dataDir;

    @Test
    void aWalletBalanceAboveWhatALongHoldsIsShownExactly() throws Exception {
        // 2^63 micro-units and a bit: more USDC than exists, but a token can say so and the account must not break.
        BigInteger micros = BigInteger.TWO.pow(63).add(BigInteger.valueOf(1_234_567));
        NewAgent whale = newAgent("whale");
        mintMicros(whale.agent().walletAddress(), micros);

        Map<String, Object> account = output(call(client(whale.apiKey()), "account", Map.of()));

        assertThat(account).containsEntry("usdcBalance", new BigDecimal(micros, 6).toPlainString());
        assertThat(paymentChain.context().usdc().balanceOf(whale.agent().walletAddress()).block(Duration.ofSeconds(10)))
                .isEqualTo(micros);
    }

    @Test
    void aPaymentShowsInTheBalanceAtOnceEvenRightAfterAnEarlierRead() throws Exception {
        NewAgent agent = newAgent("payer-watching");
        paymentChain.mintTestUsdc(agent.agent().walletAddress(), Usdc.parse("20.00"));
        McpSyncClient client = client(agent.apiKey());
        awaitBalance(client, "20.00");

        paidReservation(client, "L40S", "demo-steady", 60, "watched-payment");

        // 0.90 per GPU-hour, one hour: the deposit is final when pay answers, and so is the balance.
        assertThat(output(call(client, "account", Map.of()))).containsEntry("usdcBalance", "19.10")
                .containsEntry("escrowed", "0.90");
    }

    @Test
    @SuppressWarnings("unchecked")
    void theEscrowedSumCoversEveryPaidReservationOnceAndTheListShowsTheAgentsOwnNewestFirst() throws Exception {
        NewAgent agent = newAgent("several-reservations");
        paymentChain.mintTestUsdc(agent.agent().walletAddress(), Usdc.parse("20.00"));
        McpSyncClient client = client(agent.apiKey());
        awaitBalance(client, "20.00");
        NewAgent other = newAgent("someone-else");
        McpSyncClient otherClient = client(other.apiKey());
        assertThat(output(call(otherClient, "account", Map.of()))).containsEntry("escrowed", "0.00")
                .containsEntry("reservations", List.of());

        String first = paidReservation(client, "L40S", "demo-steady", 60, "first-paid");
        String second = paidReservation(client, "L40S", "demo-steady", 120, "second-paid");
        String held = heldReservation(client, "L40S", "demo-steady", 60, "held-unpaid");

        // 0.90 an hour: one hour and two hours paid; the held one is not in escrow.
        Map<String, Object> account = output(call(client, "account", Map.of()));
        assertThat(account).containsEntry("escrowed", "2.70").containsEntry("usdcBalance", "17.30");
        List<Map<String, Object>> reservations = (List<Map<String, Object>>) account.get("reservations");
        assertThat(reservations).extracting(reservation -> reservation.get("reservationId"))
                .containsExactly(held, second, first);
        assertThat(reservations).extracting(reservation -> reservation.get("status"))
                .containsExactly("held", "paid", "paid");
        assertThat(output(call(otherClient, "account", Map.of()))).containsEntry("escrowed", "0.00")
                .containsEntry("reservations", List.of());
    }

    @Test
    @SuppressWarnings("unchecked")
    void aHoldAFreezeAndTheKillSwitchShowInTheNextAccountCallThoughTheOneBeforeWasAnsweredFromMemory() throws Exception {
        NewAgent agent = newAgent("watching-its-budget");
        paymentChain.mintTestUsdc(agent.agent().walletAddress(), Usdc.parse("20.00"));
        McpSyncClient client = client(agent.apiKey());
        awaitBalance(client, "20.00");
        AdminClient admin = new AdminClient(baseUri(), Path.of(dataDir));
        // Read twice: the second answer comes from memory, and must not outlive the writes below.
        call(client, "account", Map.of());
        Map<String, Object> before = (Map<String, Object>) output(call(client, "account", Map.of())).get("budget");
        assertThat(before).containsEntry("held", "0.00").containsEntry("frozen", false).containsEntry("killSwitch", false);

        String held = heldReservation(client, "L40S", "demo-steady", 60, "budget-held");
        Map<String, Object> afterHold = output(call(client, "account", Map.of()));
        assertThat((Map<String, Object>) afterHold.get("budget")).containsEntry("held", "0.90");
        assertThat((List<Map<String, Object>>) afterHold.get("reservations"))
                .extracting(reservation -> reservation.get("reservationId")).containsExactly(held);

        assertThat(admin.post("/admin/v1/agents/" + agent.agent().agentId() + "/freeze", null).statusCode()).isEqualTo(200);
        assertThat((Map<String, Object>) output(call(client, "account", Map.of())).get("budget"))
                .containsEntry("frozen", true);
        try {
            assertThat(admin.put("/admin/v1/kill-switch", "{\"on\": true}").statusCode()).isEqualTo(200);
            assertThat((Map<String, Object>) output(call(client, "account", Map.of())).get("budget"))
                    .containsEntry("killSwitch", true);
        } finally {
            // This context is shared: the other classes' agents must be able to spend.
            assertThat(admin.put("/admin/v1/kill-switch", "{\"on\": false}").statusCode()).isEqualTo(200);
        }
        assertThat((Map<String, Object>) output(call(client, "account", Map.of())).get("budget"))
                .containsEntry("killSwitch", false);
    }

    /**
     * account answers an unchanged account with the answer it kept, written as JSON once: agents polling in turn must
     * each get their own, with the same JSON as text as structured.
     */
    @Test
    void agentsPollingTheirAccountsInTurnEachGetTheirOwnAnswerWithTheSameTextAsStructure() throws Exception {
        NewAgent first = newAgent("polling-first");
        NewAgent second = newAgent("polling-second");
        paymentChain.mintTestUsdc(first.agent().walletAddress(), Usdc.parse("3.00"));
        paymentChain.mintTestUsdc(second.agent().walletAddress(), Usdc.parse("4.00"));
        McpSyncClient firstClient = client(first.apiKey());
        McpSyncClient secondClient = client(second.apiKey());
        awaitBalance(firstClient, "3.00");
        awaitBalance(secondClient, "4.00");
        for (int round = 0; round < 5; round++) {
            for (var polling : List.of(Map.entry(first, firstClient), Map.entry(second, secondClient))) {
                CallToolResult result = call(polling.getValue(), "account", Map.of());
                Map<String, Object> answer = output(result);
                assertThat(answer).containsEntry("agentId", polling.getKey().agent().agentId())
                        .containsEntry("walletAddress", polling.getKey().agent().walletAddress())
                        .containsEntry("usdcBalance", polling.getKey() == first ? "3.00" : "4.00");
                assertThat(json.readValue(((McpSchema.TextContent) result.content().getFirst()).text(), Map.class))
                        .isEqualTo(answer);
            }
        }
    }

    @Test
    void aTransferTheBrokerDidNotMakeShowsOnceTheTrackerHasSeenANewerBlock() throws Exception {
        NewAgent agent = newAgent("topped-up");
        paymentChain.mintTestUsdc(agent.agent().walletAddress(), Usdc.parse("5.00"));
        McpSyncClient client = client(agent.apiKey());
        awaitBalance(client, "5.00");

        paymentChain.mintTestUsdc(agent.agent().walletAddress(), Usdc.parse("2.50"));

        // The tracker reads the head every quarter second, and a head older than a second is not trusted: the transfer
        // shows within about a second whatever happens, under load included.
        long start = System.nanoTime();
        awaitBalance(client, "7.50");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
    }

    private static void awaitBalance(McpSyncClient client, String balance) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!balance.equals(output(call(client, "account", Map.of())).get("usdcBalance"))) {
            assertThat(System.nanoTime()).as("the account shows " + balance).isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    /** Usdc (a long) cannot hold such an amount: it is minted in parts the test token accepts. */
    private void mintMicros(String address, BigInteger micros) throws Exception {
        for (BigInteger left = micros; left.signum() > 0; ) {
            BigInteger part = left.min(BigInteger.valueOf(Long.MAX_VALUE));
            paymentChain.mintTestUsdc(address, Usdc.ofMicros(part.longValueExact()));
            left = left.subtract(part);
        }
    }
}
