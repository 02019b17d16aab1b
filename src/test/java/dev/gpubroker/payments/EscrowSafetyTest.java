package dev.gpubroker.payments;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import dev.gpubroker.payments.chain.EscrowContract;

/**
 * The agent's safety net: if this server vanished, anyone can return an unsettled deposit to its payer after the
 * escrow deadline and the grace period; and the reconciliation notices a move the ledger did not make.
 */
@TestPropertySource(properties = {
        "gpubroker.market.demo-catalog=classpath:catalogs/payments.yml",
        "gpubroker.chain.reclaim-grace=1h"})
class EscrowSafetyTest extends PaymentTestSupport {

    /** anvil's third development account: a stranger to the broker. */
    private static final String STRANGER_KEY = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";

    @Autowired
    Reconciliation reconciliation;

    @Test
    void aStrangerCanReturnAnUnsettledDepositToItsPayerAfterTheDeadlineAndTheLedgerGapIsReported() throws Exception {
        NewAgent agent = newAgent("abandoned");
        String wallet = agent.agent().walletAddress();
        mint(wallet, "20.00");
        McpSyncClient client = client(agent.apiKey());
        Map<String, Object> reservation = reserve(client, "H100", 60, "reserve-abandoned-1");
        Map<String, Object> payment = output(call(client, "pay", Map.of("reservationId", reservation.get("reservationId"),
                "idempotencyKey", "pay-abandoned-1")));
        assertThat(payment).containsEntry("status", "confirmed");
        assertThat(usdcOf(wallet)).isEqualTo(BigInteger.valueOf(17_600_000));
        assertThat(reconciliation.run().block(Duration.ofSeconds(20)).mismatches())
                .as("ledger and chain agree after a deposit").isEmpty();

        String reservationKey = EscrowContract.reservationKey((String) reservation.get("reservationId"));
        String stranger = Credentials.create(STRANGER_KEY).getAddress();
        assertThatThrownBy(() -> chain().client().call(stranger, chain().escrowAddress(),
                EscrowContract.reclaim(reservationKey)).block(Duration.ofSeconds(10)))
                .as("too early: before deadline + grace").hasMessageContaining("revert");
        assertThat(usdcOf(wallet)).isEqualTo(BigInteger.valueOf(17_600_000));

        // Past the escrow deadline (hold + duration + 24 h) and the grace period (1 h).
        chain().client().raw("evm_increaseTime", List.of(3 * 24 * 3600)).block(Duration.ofSeconds(10));
        chain().client().raw("evm_mine", List.of()).block(Duration.ofSeconds(10));
        TransactionReceipt reclaimed = reclaimAsStranger(reservationKey);

        assertThat(reclaimed.isStatusOK()).isTrue();
        assertThat(usdcOf(wallet)).isEqualTo(BigInteger.valueOf(20_000_000));
        Reconciliation.Report report = reconciliation.run().block(Duration.ofSeconds(20));
        assertThat(report.mismatches()).singleElement().satisfies(mismatch -> {
            assertThat(mismatch.kind()).isEqualTo("on_chain_not_in_ledger");
            assertThat(mismatch.txHash()).isEqualToIgnoringCase(reclaimed.getTransactionHash());
            assertThat(mismatch.detail()).contains("Reclaimed").contains("2400000");
        });
        // The operator sees the same report through the admin API.
        String token = java.nio.file.Files.readString(java.nio.file.Path.of(dataDir, "admin.token")).strip();
        try (var http = java.net.http.HttpClient.newHttpClient()) {
            var response = http.send(java.net.http.HttpRequest.newBuilder(baseUri().resolve("/admin/v1/reconciliation"))
                    .header("Authorization", "Bearer " + token).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).contains("on_chain_not_in_ledger").contains(reclaimed.getTransactionHash());
        }
    }

    @org.springframework.beans.factory.annotation.Value("${gpubroker.data-dir}")
    String dataDir;

    private TransactionReceipt reclaimAsStranger(String reservationKey) throws Exception {
        Web3j web3j = Web3j.build(new HttpService(chain().client().url()));
        try {
            RawTransactionManager stranger = new RawTransactionManager(web3j, Credentials.create(STRANGER_KEY),
                    chain().chainId(), new PollingTransactionReceiptProcessor(web3j, 100, 100));
            var sent = stranger.sendTransaction(web3j.ethGasPrice().send().getGasPrice().multiply(BigInteger.TWO),
                    BigInteger.valueOf(200_000), chain().escrowAddress(), EscrowContract.reclaim(reservationKey),
                    BigInteger.ZERO);
            assertThat(sent.hasError()).as(sent.hasError() ? sent.getError().getMessage() : "sent").isFalse();
            return new PollingTransactionReceiptProcessor(web3j, 100, 100).waitForTransactionReceipt(sent.getTransactionHash());
        } finally {
            web3j.shutdown();
        }
    }
}
