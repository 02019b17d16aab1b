package dev.gpubroker.payments.relayer;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.TestPropertySource;

import io.modelcontextprotocol.client.McpSyncClient;

import dev.gpubroker.identity.NewAgent;
import dev.gpubroker.money.Usdc;
import dev.gpubroker.payments.chain.ChainContext;
import dev.gpubroker.payments.chain.PaymentChain;
import dev.gpubroker.payments.chain.TokenContract;
import dev.gpubroker.support.BrokerIntegrationTest;

/** The relayer when the chain misbehaves: a transaction that is not mined, one that was never broadcast. */
@TestPropertySource(properties = {
        "gpubroker.market.demo-catalog=classpath:catalogs/payments.yml",
        "gpubroker.chain.receipt-timeout=2s"})
class RelayerResilienceTest extends BrokerIntegrationTest {

    @Autowired
    PaymentChain paymentChain;

    @Autowired
    Relayer relayer;

    @Autowired
    ChainTransactionRepository transactions;

    @AfterEach
    void mineAgain() {
        chain().client().raw("evm_setAutomine", List.of(true)).block(Duration.ofSeconds(10));
    }

    @Test
    void aStuckDepositIsReplacedAtTheSameNonceWithHigherFeesAndPaysExactlyOnce() throws Exception {
        NewAgent agent = newAgent("stuck");
        paymentChain.mintTestUsdc(agent.agent().walletAddress(), Usdc.parse("10.00"));
        McpSyncClient client = client(agent.apiKey());
        Map<String, Object> reservation = reserve(client);
        BigInteger escrowBefore = balance(chain().escrowAddress());
        chain().client().raw("evm_setAutomine", List.of(false)).block(Duration.ofSeconds(10));

        Map<String, Object> payment = output(call(client, "pay", Map.of("reservationId", reservation.get("reservationId"),
                "idempotencyKey", "pay-stuck-1")));
        assertThat(payment).as("pending is not paid").containsEntry("status", "submitted");
        String original = (String) payment.get("txHash");

        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (count("chain_transactions", "replaces_tx_hash = :h", Map.of("h", original)) == 0) {
            assertThat(System.nanoTime()).as("a replacement after the 2 s receipt timeout").isLessThan(deadline);
            Thread.sleep(100);
        }
        ChainTransaction stuck = transactions.findByHash(original).block(Duration.ofSeconds(5));
        ChainTransaction replacement = transactions.findByNonce(stuck.from(), stuck.nonce())
                .filter(candidate -> original.equals(candidate.replacesHash())).blockFirst(Duration.ofSeconds(5));
        assertThat(replacement.maxFeePerGas()).isGreaterThan(stuck.maxFeePerGas());
        assertThat(replacement.maxPriorityFeePerGas()).isGreaterThan(stuck.maxPriorityFeePerGas());
        assertThat(replacement.callData()).isEqualTo(stuck.callData());

        chain().client().raw("evm_mine", List.of()).block(Duration.ofSeconds(10));
        while (!"CONFIRMED".equals(status(payment))) {
            assertThat(System.nanoTime()).as("confirmed once mined").isLessThan(deadline + Duration.ofSeconds(20).toNanos());
            Thread.sleep(100);
        }

        // The payment shows confirmed once the tracker's listener ran; the tracker closes the mined transaction and then
        // its sibling at the same nonce right after, in steps of their own.
        Map<String, Object> nonce = Map.of("n", stuck.nonce());
        while (count("chain_transactions", "nonce = :n AND status IN ('BROADCAST', 'SIGNED')", nonce) > 0) {
            assertThat(System.nanoTime()).as("both transactions closed")
                    .isLessThan(deadline + Duration.ofSeconds(30).toNanos());
            Thread.sleep(50);
        }
        assertThat(balance(chain().escrowAddress()).subtract(escrowBefore)).isEqualTo(BigInteger.valueOf(2_400_000));
        assertThat(count("chain_transactions", "nonce = :n AND status = 'CONFIRMED'", nonce)).isEqualTo(1);
        assertThat(count("chain_transactions", "nonce = :n AND status = 'REPLACED'", nonce)).isEqualTo(1);
        assertThat(count("reservations", "reservation_id = :r AND state = 'PAID'",
                Map.of("r", reservation.get("reservationId")))).isEqualTo(1);
    }

    @Test
    void aTransactionSignedButNeverBroadcastIsSentAgainAsTheSameBytes() throws Exception {
        // As after a crash between committing the signed transaction and broadcasting it.
        String from = relayer.address();
        ChainTransaction signed = relayer.signAndStore("probe", "probe-1", chain().usdc().address(),
                TokenContract.transfer(from, BigInteger.ZERO)).block(Duration.ofSeconds(10));
        long nonce = signed.nonce();

        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!"CONFIRMED".equals(transactions.findByHash(signed.hash()).block().status().name())) {
            assertThat(System.nanoTime()).as("the tracker broadcasts it and follows it").isLessThan(deadline);
            Thread.sleep(200);
        }
        assertThat(count("chain_transactions", "nonce = :n", Map.of("n", nonce))).isEqualTo(1);
    }

    private ChainContext chain() {
        return paymentChain.context();
    }

    private BigInteger balance(String address) {
        return chain().usdc().balanceOf(address).block(Duration.ofSeconds(10));
    }

    private String status(Map<String, Object> payment) {
        return db.sql("SELECT status FROM payments WHERE payment_id = :p").bind("p", payment.get("paymentId"))
                .map(row -> row.get("status", String.class)).one().block(Duration.ofSeconds(5));
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> reserve(McpSyncClient client) {
        List<Map<String, Object>> quotes = quotes(call(client, "quote", Map.of("gpu", "H100", "durationMinutes", 60)));
        return output(call(client, "reserve", Map.of("quoteId", quotes.getFirst().get("quoteId"), "idempotencyKey",
                "reserve-stuck-1")));
    }
}
