package dev.gpubroker.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.TestPropertySource;
import org.web3j.crypto.Credentials;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.methods.response.TransactionReceipt;
import org.web3j.protocol.http.HttpService;
import org.web3j.tx.RawTransactionManager;
import org.web3j.tx.response.PollingTransactionReceiptProcessor;

import io.modelcontextprotocol.client.McpSyncClient;

import dev.gpubroker.identity.NewAgent;
import dev.gpubroker.money.Usdc;
import dev.gpubroker.payments.Reconciliation;
import dev.gpubroker.payments.chain.EscrowContract;
import dev.gpubroker.payments.chain.PaymentChain;
import dev.gpubroker.support.BrokerIntegrationTest;

/**
 * After the escrow deadline and its grace period anyone may hand an unsettled deposit back to its payer. The broker
 * then must neither start a job on it nor retry a settlement that can never succeed: it records the reclaim in the
 * ledger (keyed to the chain's Reclaimed event) and ends the reservation, so ledger and chain agree again.
 */
@TestPropertySource(properties = {
        "gpubroker.market.demo-catalog=classpath:catalogs/jobs.yml",
        "gpubroker.chain.reclaim-grace=1h"})
class EscrowReclaimTest extends BrokerIntegrationTest {

    /** anvil's third development account: a stranger to the broker. */
    private static final String STRANGER_KEY = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";

    @Autowired
    PaymentChain paymentChain;

    @Autowired
    Reconciliation reconciliation;

    @Test
    void aReclaimedDepositRunsNoJobIsNeverSettledAndEndsInTheLedger() throws Exception {
        NewAgent agent = newAgent("reclaimer");
        String wallet = agent.agent().walletAddress();
        paymentChain.mintTestUsdc(wallet, Usdc.parse("20.00"));
        McpSyncClient client = client(agent.apiKey());
        String idle = paidReservation(client, "H100", "demo-steady", 10, "reclaim-idle");
        String busy = paidReservation(client, "H100", "demo-steady", 10, "reclaim-busy");
        String jobId = (String) output(call(client, "run", Map.of("reservationId", busy, "idempotencyKey", "reclaim-busy-run",
                "command", List.of("sleep", "600")))).get("jobId");
        awaitJobStatus(client, jobId, "running");

        // Past the escrow deadline (hold + duration + 24 h) and the grace period (1 h), on chain; then the stranger
        // returns both deposits to their payer, as the escrow allows anyone to.
        paymentChain.context().client().raw("evm_increaseTime", List.of(26 * 3600)).block(Duration.ofSeconds(10));
        paymentChain.context().client().raw("evm_mine", List.of()).block(Duration.ofSeconds(10));
        String idleReclaim = reclaimAsStranger(idle).getTransactionHash();
        String busyReclaim = reclaimAsStranger(busy).getTransactionHash();
        assertThat(balance(wallet)).isEqualTo(BigInteger.valueOf(20_000_000));

        Map<String, Object> refused = error(call(client, "run", Map.of("reservationId", idle,
                "idempotencyKey", "reclaim-idle-run", "command", List.of("true"))));
        assertThat(refused).containsEntry("code", "escrow_not_open").containsEntry("field", "reservationId");
        assertThat((String) refused.get("message")).contains("reclaimed").contains(idleReclaim);
        assertThat(count("jobs", "reservation_id = :r", Map.of("r", idle))).isZero();
        assertThat(state(idle)).isEqualTo("REFUNDED");
        assertThat(count("ledger_lines", "reservation_id = :r AND tx_hash = :t AND reason LIKE '%reclaimed%'",
                Map.of("r", idle, "t", idleReclaim))).isEqualTo(2);

        // The running job ends; its settlement can never succeed: the reclaim is recorded instead, once.
        output(call(client, "cancel", Map.of("jobId", jobId, "idempotencyKey", "reclaim-busy-stop")));
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!busyReclaim.equalsIgnoreCase(String.valueOf(output(call(client, "job_status", Map.of("jobId", jobId)))
                .get("settlementTx")))) {
            assertThat(System.nanoTime()).as("the job's escrow is recorded as reclaimed").isLessThan(deadline);
            Thread.sleep(200);
        }
        assertThat(state(busy)).isEqualTo("REFUNDED");
        Thread.sleep(5_000);
        assertThat(count("chain_transactions", "reference_id = :r AND purpose = 'settle'", Map.of("r", busy)))
                .as("no settlement was signed for an escrow that is gone").isZero();
        assertThat(count("job_events", "job_id = :j AND kind = 'escrow_reclaimed'", Map.of("j", jobId))).isEqualTo(1);
        assertThat(output(call(client, "account", Map.of()))).containsEntry("escrowed", "0.00");
        assertThat(reconciliation.run().block(Duration.ofSeconds(20)).mismatches())
                .as("ledger and chain agree once the reclaims are recorded").isEmpty();
    }

    private void awaitJobStatus(McpSyncClient client, String jobId, String status) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!status.equals(output(call(client, "job_status", Map.of("jobId", jobId))).get("status"))) {
            assertThat(System.nanoTime()).as("job " + jobId + " is " + status).isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    private String state(String reservationId) {
        return db.sql("SELECT state FROM reservations WHERE reservation_id = :r").bind("r", reservationId)
                .map(row -> row.get("state", String.class)).one().block(Duration.ofSeconds(5));
    }

    private BigInteger balance(String address) {
        return paymentChain.context().usdc().balanceOf(address).block(Duration.ofSeconds(10));
    }

    private TransactionReceipt reclaimAsStranger(String reservationId) throws Exception {
        Web3j web3j = Web3j.build(new HttpService(paymentChain.context().client().url()));
        try {
            RawTransactionManager stranger = new RawTransactionManager(web3j, Credentials.create(STRANGER_KEY),
                    paymentChain.context().chainId(), new PollingTransactionReceiptProcessor(web3j, 100, 100));
            var sent = stranger.sendTransaction(web3j.ethGasPrice().send().getGasPrice().multiply(BigInteger.TWO),
                    BigInteger.valueOf(200_000), paymentChain.context().escrowAddress(),
                    EscrowContract.reclaim(EscrowContract.reservationKey(reservationId)), BigInteger.ZERO);
            assertThat(sent.hasError()).as(sent.hasError() ? sent.getError().getMessage() : "sent").isFalse();
            TransactionReceipt receipt = new PollingTransactionReceiptProcessor(web3j, 100, 100)
                    .waitForTransactionReceipt(sent.getTransactionHash());
            assertThat(receipt.isStatusOK()).as("reclaim of " + reservationId).isTrue();
            return receipt;
        } finally {
            web3j.shutdown();
        }
    }
}
