package dev.gpubroker.payments;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.TestPropertySource;
import org.web3j.abi.FunctionEncoder;
import org.web3j.abi.datatypes.Address;
import org.web3j.abi.datatypes.Function;
import org.web3j.abi.datatypes.generated.Bytes32;
import org.web3j.abi.datatypes.generated.Uint256;
import org.web3j.abi.datatypes.generated.Uint8;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.RawTransaction;
import org.web3j.crypto.TransactionEncoder;
import org.web3j.crypto.Keys;
import org.web3j.crypto.Sign;
import org.web3j.crypto.StructuredDataEncoder;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.DefaultBlockParameterName;
import org.web3j.protocol.http.HttpService;
import org.web3j.utils.Convert;
import org.web3j.utils.Numeric;

import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;

import dev.gpubroker.identity.NewAgent;
import dev.gpubroker.money.Usdc;
import dev.gpubroker.payments.chain.DevChainAccount;
import dev.gpubroker.payments.chain.EmbeddedAnvil;
import dev.gpubroker.payments.chain.EscrowContract;
import dev.gpubroker.payments.chain.EscrowDeposit;

/**
 * x402 over MCP (transport v2) against the real anvil: an agent with its own wallet asks pay without a payment, gets
 * the x402 PaymentRequired, signs a stock {@code exact} TransferWithAuthorization from {@code accepts[0]} alone (what
 * @x402/evm signs: random nonce, validAfter 0, validBefore now + maxTimeoutSeconds), and retries the same call with it in
 * {@code _meta["x402/payment"]}. The transfer becomes an escrow deposit with the wallet as payer; a copy submitted
 * straight to the token by someone else is credited to its reservation once; everything faulty is refused before
 * anything is sent.
 */
@TestPropertySource(properties = "gpubroker.market.demo-catalog=classpath:catalogs/payments.yml")
class X402PaymentTest extends PaymentTestSupport {

    private static final SecureRandom RANDOM = new SecureRandom();

    @Autowired
    private Reconciliation reconciliation;

    @Autowired
    private StrayTransfers strayTransfers;

    @Test
    void aStockExactPaymentGoesIntoTheEscrowWithTheWalletAsPayerAndTheRefundComesBack() throws Exception {
        Wallet wallet = Wallet.create();
        McpSyncClient client = client(externalAgent(wallet, "50.00").apiKey());
        String reservationId = heldReservation(client, "H100", "demo-steady", 60, "x402-reserve-1");

        CallToolResult asked = ask(client, reservationId);

        Map<String, Object> required = paymentRequired(asked);
        assertThat(required).containsEntry("x402Version", 2);
        Map<String, Object> accepted = accepts(required).getFirst();
        assertThat(accepted).containsEntry("scheme", "exact").containsEntry("network", chain().network())
                .containsEntry("amount", "2400000").containsEntry("asset", chain().usdc().address())
                .containsEntry("payTo", chain().escrowAddress());
        assertThat(accepts(required)).as("chain 31337 has no x402 v1 name, so no v1 entry").hasSize(1);
        assertThat(asked.content().getFirst()).as("the same PaymentRequired as the first text, for clients without "
                + "structured content").isInstanceOfSatisfying(McpSchema.TextContent.class, text -> assertThat(
                        json.readValue(text.text(), new tools.jackson.core.type.TypeReference<Map<String, Object>>() { }))
                        .isEqualTo(required));
        assertThat(error(asked)).containsEntry("code", "signature_required");

        Map<String, Object> payment = v2Payment(accepted, transfer(accepted, wallet, Map.of()), "pay_x402_identifier_0001");
        CallToolResult paid = payCall(client, Map.of("reservationId", reservationId, "idempotencyKey", "x402-pay-1"), payment);

        assertThat(output(paid)).containsEntry("status", "confirmed").containsEntry("method", "signed_transfer")
                .containsEntry("payer", wallet.address());
        @SuppressWarnings("unchecked")
        Map<String, Object> settlement = (Map<String, Object>) paid.meta().get("x402/payment-response");
        assertThat(settlement).containsEntry("success", true).containsEntry("network", chain().network())
                .containsEntry("payer", wallet.address()).containsEntry("transaction", output(paid).get("txHash"));
        EscrowDeposit deposit = escrowDeposit(reservationId);
        assertThat(deposit.payer()).isEqualToIgnoringCase(wallet.address());
        assertThat(deposit.amount()).isEqualTo(BigInteger.valueOf(2_400_000));
        assertThat(usdcOf(wallet.address())).isEqualTo(BigInteger.valueOf(47_600_000));

        // The client retries with the same payment-identifier (and another idempotencyKey argument): the identifier is
        // the key, so it is the same payment and nothing is paid twice.
        CallToolResult again = payCall(client, Map.of("reservationId", reservationId, "idempotencyKey", "x402-pay-other"),
                payment);
        assertThat(output(again)).containsEntry("paymentId", output(paid).get("paymentId")).containsEntry("replayed", true);
        assertThat(usdcOf(wallet.address())).isEqualTo(BigInteger.valueOf(47_600_000));

        // Run and settle: what the job did not use goes back to the wallet that signed.
        String jobId = (String) output(call(client, "run", Map.of("reservationId", reservationId, "idempotencyKey",
                "x402-run-1", "command", List.of("sh", "-c", "echo paid with x402; sleep 1")))).get("jobId");
        Map<String, Object> settled = awaitSettled(client, jobId);
        long cost = Usdc.parse((String) settled.get("cost")).micros();
        assertThat(cost).isPositive().isLessThan(2_400_000);
        assertThat(usdcOf(wallet.address())).isEqualTo(BigInteger.valueOf(50_000_000 - cost));
        assertThat(escrowDeposit(reservationId).state()).isEqualTo(EscrowDeposit.State.SETTLED);
        assertThat(ledgerImbalance()).isZero();
    }

    @Test
    void anX402VersionOnePayloadPaysToo() throws Exception {
        Wallet wallet = Wallet.create();
        McpSyncClient client = client(externalAgent(wallet, "50.00").apiKey());
        String reservationId = heldReservation(client, "H100", "demo-steady", 60, "x402-reserve-v1");
        Map<String, Object> accepted = accepts(paymentRequired(ask(client, reservationId))).getFirst();
        Map<String, Object> v1 = new LinkedHashMap<>();
        v1.put("x402Version", 1);
        v1.put("scheme", "exact");
        v1.put("network", accepted.get("network"));
        // v1 clients start the window ten minutes back.
        v1.put("payload", transfer(accepted, wallet, Map.of("validAfter",
                Long.toString(Instant.now().minusSeconds(600).getEpochSecond()))));

        CallToolResult paid = payCall(client, Map.of("reservationId", reservationId, "idempotencyKey", "x402-v1-pay"), v1);

        assertThat(output(paid)).containsEntry("status", "confirmed").containsEntry("method", "signed_transfer");
        assertThat(escrowDeposit(reservationId).payer()).isEqualToIgnoringCase(wallet.address());
    }

    @Test
    void everyFaultyX402PaymentIsRefusedWithThePaymentRequiredAndNothingMoves() throws Exception {
        Wallet wallet = Wallet.create();
        Wallet stranger = Wallet.create();
        McpSyncClient client = client(externalAgent(wallet, "50.00").apiKey());
        String reservationId = heldReservation(client, "H100", "demo-steady", 60, "x402-reserve-faulty");
        Map<String, Object> accepted = accepts(paymentRequired(ask(client, reservationId))).getFirst();
        BigInteger escrowBefore = escrowBalance();
        long transactionsBefore = count("chain_transactions");

        assertThat(refusal(client, reservationId, "x402-faulty-amount", transfer(accepted, wallet, Map.of("value", "1000000"))))
                .containsEntry("code", "invalid_authorization").containsEntry("field", "authorization.value");
        assertThat(refusal(client, reservationId, "x402-faulty-payto", transfer(accepted, wallet, Map.of("to", stranger.address()))))
                .containsEntry("field", "authorization.to");
        assertThat(refusal(client, reservationId, "x402-faulty-expired", transfer(accepted, wallet, Map.of("validBefore",
                Long.toString(Instant.now().minusSeconds(5).getEpochSecond())))))
                .containsEntry("field", "authorization.validBefore");
        assertThat(refusal(client, reservationId, "x402-faulty-future", transfer(accepted, wallet, Map.of("validAfter",
                Long.toString(Instant.now().plusSeconds(600).getEpochSecond())))))
                .containsEntry("field", "authorization.validAfter");
        assertThat(refusal(client, reservationId, "x402-faulty-wallet", transfer(accepted, stranger, Map.of())))
                .containsEntry("field", "authorization.from");
        Map<String, Object> forged = transfer(accepted, wallet, Map.of());
        forged.put("signature", transfer(accepted, stranger, Map.of()).get("signature"));
        assertThat(refusal(client, reservationId, "x402-faulty-signer", forged)).containsEntry("field", "signature");
        Map<String, Object> cancelled = transfer(accepted, wallet, Map.of());
        cancelOnChain(accepted, wallet, nonceOf(cancelled));
        assertThat(refusal(client, reservationId, "x402-faulty-cancelled", cancelled)).containsEntry("field", "authorization.nonce");
        // Another network than the server's.
        Map<String, Object> otherNetwork = new HashMap<>(accepted);
        otherNetwork.put("network", "eip155:8453");
        CallToolResult wrongNetwork = payCall(client, Map.of("reservationId", reservationId, "idempotencyKey", "x402-faulty-net"),
                v2Payment(otherNetwork, transfer(accepted, wallet, Map.of()), null));
        assertThat(paymentRequired(wrongNetwork)).containsKey("accepts");
        assertThat(error(wrongNetwork)).containsEntry("code", "invalid_authorization");
        // Not an x402 payment at all.
        assertThat(error(payCall(client, Map.of("reservationId", reservationId, "idempotencyKey", "x402-faulty-shape"),
                Map.of("x402Version", 2, "accepted", accepted, "payload", Map.of("signature", "0x00")))))
                .containsEntry("code", "invalid_argument");
        // An x402 payment and arguments at once.
        assertThat(error(payCall(client, Map.of("reservationId", reservationId, "idempotencyKey", "x402-faulty-both",
                "signature", "0x" + "ab".repeat(65), "authorization", Map.of("from", wallet.address(), "to",
                        accepted.get("payTo"), "value", "1", "validAfter", "0", "validBefore", "1", "nonce",
                        "0x" + "00".repeat(32))), v2Payment(accepted, transfer(accepted, wallet, Map.of()), null))))
                .containsEntry("code", "invalid_argument");

        assertThat(escrowBalance()).isEqualTo(escrowBefore);
        assertThat(usdcOf(wallet.address())).isEqualTo(BigInteger.valueOf(50_000_000));
        assertThat(count("chain_transactions")).isEqualTo(transactionsBefore);
    }

    @Test
    void oneSignedTransferPaysOneReservationOnly() throws Exception {
        Wallet wallet = Wallet.create();
        McpSyncClient client = client(externalAgent(wallet, "80.00").apiKey());
        String first = heldReservation(client, "H100", "demo-steady", 60, "x402-replay-1");
        String second = heldReservation(client, "H100", "demo-steady", 60, "x402-replay-2");
        Map<String, Object> accepted = accepts(paymentRequired(ask(client, first)))
                .getFirst();
        Map<String, Object> payload = transfer(accepted, wallet, Map.of());

        assertThat(output(payCall(client, Map.of("reservationId", first, "idempotencyKey", "x402-replay-pay-1"),
                v2Payment(accepted, payload, null)))).containsEntry("status", "confirmed");
        Map<String, Object> replayed = error(payCall(client, Map.of("reservationId", second, "idempotencyKey",
                "x402-replay-pay-2"), v2Payment(accepted, payload, null)));

        assertThat(replayed).containsEntry("code", "invalid_authorization").containsEntry("field", "authorization.nonce");
        assertThat((String) replayed.get("message")).contains(first);
        assertThat(escrowDeposit(second).state()).isEqualTo(EscrowDeposit.State.NONE);
        assertThat(usdcOf(wallet.address())).isEqualTo(BigInteger.valueOf(77_600_000));
    }

    @Test
    void aTransferSomeoneElseSubmittedStraightToTheTokenIsCreditedToItsReservationOnce() throws Exception {
        Wallet wallet = Wallet.create();
        McpSyncClient client = client(externalAgent(wallet, "80.00").apiKey());
        String reservationId = heldReservation(client, "H100", "demo-steady", 60, "x402-frontrun-1");
        String other = heldReservation(client, "H100", "demo-steady", 60, "x402-frontrun-2");
        Map<String, Object> accepted = accepts(paymentRequired(ask(client, reservationId))).getFirst();
        Map<String, Object> payload = transfer(accepted, wallet, Map.of());
        BigInteger escrowBefore = escrowBalance();

        // Whoever saw the signed authorization submits it to the token first: the money is in the escrow, for nobody.
        submitStraightToToken(payload);
        assertThat(escrowBalance()).isEqualTo(escrowBefore.add(BigInteger.valueOf(2_400_000)));
        assertThat(escrowDeposit(reservationId).state()).isEqualTo(EscrowDeposit.State.NONE);
        assertThat(reconciliation.run().block(Duration.ofSeconds(10)).mismatches())
                .as("the operator sees money in the escrow that belongs to no deposit")
                .anySatisfy(mismatch -> assertThat(mismatch.kind()).isEqualTo("unattributed_in_escrow"));

        CallToolResult paid = payCall(client, Map.of("reservationId", reservationId, "idempotencyKey",
                "x402-frontrun-pay"), v2Payment(accepted, payload, null));

        assertThat(output(paid)).containsEntry("status", "confirmed").containsEntry("payer", wallet.address());
        EscrowDeposit deposit = escrowDeposit(reservationId);
        assertThat(deposit.state()).isEqualTo(EscrowDeposit.State.DEPOSITED);
        assertThat(deposit.payer()).isEqualToIgnoringCase(wallet.address());
        assertThat(escrowBalance()).as("credited, not pulled a second time")
                .isEqualTo(escrowBefore.add(BigInteger.valueOf(2_400_000)));
        assertThat(usdcOf(wallet.address())).isEqualTo(BigInteger.valueOf(77_600_000));
        // The same transfer cannot be credited to another reservation.
        assertThat(error(payCall(client, Map.of("reservationId", other, "idempotencyKey", "x402-frontrun-other"),
                v2Payment(accepted, payload, null)))).containsEntry("code", "invalid_authorization");
        assertThat(escrowDeposit(other).state()).isEqualTo(EscrowDeposit.State.NONE);
        assertThat(ledgerImbalance()).isZero();
        assertThat(reconciliation.run().block(Duration.ofSeconds(10)).mismatches())
                .noneSatisfy(mismatch -> assertThat(mismatch.kind()).isEqualTo("unattributed_in_escrow"));
    }

    @Test
    void aFrontRunThatLandsWhileTheDepositIsOnItsWayIsCreditedInstead() throws Exception {
        Wallet wallet = Wallet.create();
        McpSyncClient client = client(externalAgent(wallet, "50.00").apiKey());
        String reservationId = heldReservation(client, "H100", "demo-steady", 60, "x402-midflight-1");
        Map<String, Object> accepted = accepts(paymentRequired(ask(client, reservationId))).getFirst();
        Map<String, Object> payload = transfer(accepted, wallet, Map.of());
        BigInteger escrowBefore = escrowBalance();

        // Blocks are mined by hand now: the stranger's copy waits in the mempool with a higher tip than the relayer's,
        // so it is mined first whether the broker's deposit is refused at estimation or reverts in the same block.
        chain().client().raw("evm_setAutomine", List.of(false)).block(Duration.ofSeconds(5));
        CallToolResult paid;
        try {
            sendStraightToTokenUnmined(payload);
            Thread miner = mineSoon();
            paid = payCall(client, Map.of("reservationId", reservationId, "idempotencyKey", "x402-midflight-pay"),
                    v2Payment(accepted, payload, null));
            miner.join();
        } finally {
            chain().client().raw("evm_setAutomine", List.of(true)).block(Duration.ofSeconds(5));
        }

        Map<String, Object> payment = awaitConfirmed(client, reservationId, paid, "x402-midflight-pay", accepted, payload);
        assertThat(payment).containsEntry("status", "confirmed").containsEntry("payer", wallet.address());
        assertThat(escrowDeposit(reservationId).payer()).isEqualToIgnoringCase(wallet.address());
        assertThat(escrowBalance()).as("the stranger's transfer, credited; not pulled again")
                .isEqualTo(escrowBefore.add(BigInteger.valueOf(2_400_000)));
        assertThat(usdcOf(wallet.address())).isEqualTo(BigInteger.valueOf(47_600_000));
        assertThat(ledgerImbalance()).isZero();
    }

    @Test
    void aCopyOfAFailedPaymentsTransferThatReachesTheEscrowLaterGoesBackToItsPayer() throws Exception {
        Wallet wallet = Wallet.create();
        Wallet elsewhere = Wallet.create();
        McpSyncClient client = client(externalAgent(wallet, "50.00").apiKey());
        String reservationId = heldReservation(client, "H100", "demo-steady", 60, "x402-stray-1");
        Map<String, Object> accepted = accepts(paymentRequired(ask(client, reservationId))).getFirst();
        Map<String, Object> payload = transfer(accepted, wallet, Map.of());
        try (DevChainAccount funder = new DevChainAccount(chain().client().url(), chain().chainId())) {
            funder.sendEther(wallet.address(), Convert.toWei("1", Convert.Unit.ETHER).toBigInteger());
        }
        BigInteger escrowBefore = escrowBalance();

        // The wallet spends its USDC elsewhere while the deposit is on its way: the deposit fails, nothing moved.
        chain().client().raw("evm_setAutomine", List.of(false)).block(Duration.ofSeconds(5));
        CallToolResult failed;
        try {
            sendUnmined(wallet.credentials(), chain().usdc().address(), org.web3j.abi.FunctionEncoder.encode(
                    new Function("transfer", List.of(new Address(elsewhere.address()), new Uint256(50_000_000L)),
                            List.of())));
            Thread miner = mineSoon();
            failed = payCall(client, Map.of("reservationId", reservationId, "idempotencyKey", "x402-stray-pay"),
                    v2Payment(accepted, payload, null));
            miner.join();
        } finally {
            chain().client().raw("evm_setAutomine", List.of(true)).block(Duration.ofSeconds(5));
        }
        assertThat(error(failed)).containsEntry("code", "chain_refused");
        assertThat(escrowBalance()).isEqualTo(escrowBefore);

        // Later, with USDC back in the wallet, someone submits the still valid signed transfer straight to the token.
        mint(wallet.address(), "50.00");
        submitStraightToToken(payload);
        assertThat(usdcOf(wallet.address())).isEqualTo(BigInteger.valueOf(47_600_000));
        strayTransfers.sweep().block(Duration.ofSeconds(30));

        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (usdcOf(wallet.address()).longValueExact() != 50_000_000 && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
        assertThat(usdcOf(wallet.address())).as("the stray transfer went back to the wallet that signed it")
                .isEqualTo(BigInteger.valueOf(50_000_000));
        assertThat(escrowBalance()).isEqualTo(escrowBefore);
        assertThat(escrowDeposit(reservationId).state()).isEqualTo(EscrowDeposit.State.NONE);
        // Returned once: another sweep finds nothing more to send.
        strayTransfers.sweep().block(Duration.ofSeconds(30));
        assertThat(count("chain_transactions", "purpose = 'return_transfer'", Map.of())).isEqualTo(1);
        // A returned transfer is not there to be credited either: sent again for another reservation, it is refused
        // before anything is sent.
        String another = heldReservation(client, "H100", "demo-steady", 60, "x402-stray-2");
        long creditsBefore = count("chain_transactions", "purpose = 'credit'", Map.of());
        assertThat(error(payCall(client, Map.of("reservationId", another, "idempotencyKey", "x402-stray-again"),
                v2Payment(accepted, payload, null)))).containsEntry("code", "invalid_authorization")
                .containsEntry("field", "authorization.nonce");
        assertThat(count("chain_transactions", "purpose = 'credit'", Map.of())).isEqualTo(creditsBefore);
        assertThat(reconciliation.run().block(Duration.ofSeconds(10)).mismatches())
                .noneSatisfy(mismatch -> assertThat(mismatch.kind()).isEqualTo("unattributed_in_escrow"));
    }

    @Test
    void aRefundEstimatedWhileThePayerHeldUsdcStillGoesThroughWhenTheWalletIsEmptiedFirst() throws Exception {
        Wallet wallet = Wallet.create();
        Wallet elsewhere = Wallet.create();
        McpSyncClient client = client(externalAgent(wallet, "50.00").apiKey());
        String reservationId = heldReservation(client, "H100", "demo-steady", 60, "x402-drift-1");
        Map<String, Object> accepted = accepts(paymentRequired(ask(client, reservationId))).getFirst();
        assertThat(output(payCall(client, Map.of("reservationId", reservationId, "idempotencyKey", "x402-drift-pay"),
                v2Payment(accepted, transfer(accepted, wallet, Map.of()), null)))).containsEntry("status", "confirmed");
        try (DevChainAccount funder = new DevChainAccount(chain().client().url(), chain().chainId())) {
            funder.sendEther(wallet.address(), Convert.toWei("1", Convert.Unit.ETHER).toBigInteger());
        }

        // The refund's gas is estimated while the wallet holds 47.60; the wallet empties itself before the refund
        // runs, so the refund writes a zero balance slot, 17,100 gas more than the estimate saw.
        chain().client().raw("evm_setAutomine", List.of(false)).block(Duration.ofSeconds(5));
        try {
            Map<String, Object> cancelled = output(call(client, "cancel", Map.of("reservationId", reservationId,
                    "idempotencyKey", "x402-drift-cancel")));
            assertThat(cancelled.toString()).contains("refund");
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (count("chain_transactions", "purpose = 'refund' AND reference_id = :r", Map.of("r", reservationId)) == 0
                    && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            sendUnmined(wallet.credentials(), chain().usdc().address(), org.web3j.abi.FunctionEncoder.encode(
                    new Function("transfer", List.of(new Address(elsewhere.address()), new Uint256(47_600_000L)),
                            List.of())));
            chain().client().raw("evm_mine", List.of()).block(Duration.ofSeconds(5));
        } finally {
            chain().client().raw("evm_setAutomine", List.of(true)).block(Duration.ofSeconds(5));
        }

        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (escrowDeposit(reservationId).state() == EscrowDeposit.State.DEPOSITED && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
        assertThat(escrowDeposit(reservationId).state()).as("the refund went through").isEqualTo(
                EscrowDeposit.State.REFUNDED);
        assertThat(usdcOf(wallet.address())).isEqualTo(BigInteger.valueOf(2_400_000));
        assertThat(count("chain_transactions", "status = 'REVERTED' AND reference_id = :r", Map.of("r", reservationId)))
                .isZero();
    }

    private Thread mineSoon() {
        return Thread.ofVirtual().start(() -> {
            try {
                Thread.sleep(1500);
                chain().client().raw("evm_mine", List.of()).block(Duration.ofSeconds(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                chain().client().raw("evm_setAutomine", List.of(true)).block(Duration.ofSeconds(5));
            }
        });
    }

    /** The paid answer, or the payment's latest status by the same key while its credit confirms. */
    private Map<String, Object> awaitConfirmed(McpSyncClient client, String reservationId, CallToolResult first,
            String key, Map<String, Object> accepted, Map<String, Object> payload) throws InterruptedException {
        Map<String, Object> latest = output(first);
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!"confirmed".equals(latest.get("status")) && System.nanoTime() < deadline) {
            Thread.sleep(200);
            latest = output(payCall(client, Map.of("reservationId", reservationId, "idempotencyKey", key),
                    v2Payment(accepted, payload, null)));
        }
        return latest;
    }

    private Map<String, Object> refusal(McpSyncClient client, String reservationId, String key,
            Map<String, Object> payload) {
        Map<String, Object> accepted = new LinkedHashMap<>();
        accepted.put("scheme", "exact");
        accepted.put("network", chain().network());
        CallToolResult result = payCall(client, Map.of("reservationId", reservationId, "idempotencyKey", key),
                v2Payment(accepted, payload, null));
        assertThat(paymentRequired(result)).as("a refused x402 payment gets the PaymentRequired again: " + result.content())
                .containsEntry("x402Version", 2);
        return error(result);
    }

    /** pay without a payment: what an x402 client sends first. */
    private static CallToolResult ask(McpSyncClient client, String reservationId) {
        return payCall(client, Map.of("reservationId", reservationId, "idempotencyKey", "x402-ask-" + reservationId),
                null);
    }

    private static CallToolResult payCall(McpSyncClient client, Map<String, Object> arguments,
            Map<String, Object> x402Payment) {
        return client.callTool(McpSchema.CallToolRequest.builder().name("pay").arguments(arguments)
                .meta(x402Payment == null ? null : Map.of("x402/payment", x402Payment)).build());
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> paymentRequired(CallToolResult result) {
        assertThat(result.isError()).isTrue();
        return (Map<String, Object>) result.structuredContent();
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> accepts(Map<String, Object> required) {
        return (List<Map<String, Object>>) required.get("accepts");
    }

    private static Map<String, Object> v2Payment(Map<String, Object> accepted, Map<String, Object> payload,
            String paymentIdentifier) {
        Map<String, Object> payment = new LinkedHashMap<>();
        payment.put("x402Version", 2);
        payment.put("accepted", accepted);
        payment.put("payload", payload);
        if (paymentIdentifier != null) {
            payment.put("extensions", Map.of("payment-identifier", Map.of("info", Map.of("id", paymentIdentifier))));
        }
        return payment;
    }

    /** The exact scheme's payload as @x402/evm builds it from one accepts entry, with some fields overridden. */
    @SuppressWarnings("unchecked")
    private Map<String, Object> transfer(Map<String, Object> accepted, Wallet signer, Map<String, String> overrides)
            throws Exception {
        Map<String, Object> authorization = new LinkedHashMap<>();
        authorization.put("from", signer.address());
        authorization.put("to", accepted.get("payTo"));
        authorization.put("value", accepted.get("amount"));
        authorization.put("validAfter", "0");
        authorization.put("validBefore", Long.toString(Instant.now().getEpochSecond()
                + ((Number) accepted.get("maxTimeoutSeconds")).longValue()));
        byte[] nonce = new byte[32];
        RANDOM.nextBytes(nonce);
        authorization.put("nonce", Numeric.toHexString(nonce));
        authorization.putAll(overrides);
        Map<String, Object> extra = (Map<String, Object>) accepted.get("extra");
        byte[] digest = digest("TransferWithAuthorization", List.of(field("from", "address"), field("to", "address"),
                field("value", "uint256"), field("validAfter", "uint256"), field("validBefore", "uint256"),
                field("nonce", "bytes32")), extra, (String) accepted.get("asset"), authorization);
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("authorization", authorization);
        payload.put("signature", signature(Sign.signMessage(digest, signer.credentials().getEcKeyPair(), false)));
        return payload;
    }

    private byte[] digest(String primaryType, List<Map<String, String>> fields, Map<String, Object> extra, String token,
            Map<String, Object> message) throws Exception {
        Map<String, Object> typedData = Map.of(
                "types", Map.of(
                        "EIP712Domain", List.of(field("name", "string"), field("version", "string"),
                                field("chainId", "uint256"), field("verifyingContract", "address")),
                        primaryType, fields),
                "primaryType", primaryType,
                "domain", Map.of("name", extra.get("name"), "version", extra.get("version"), "chainId", chain().chainId(),
                        "verifyingContract", token),
                "message", message);
        return new StructuredDataEncoder(json.writeValueAsString(typedData)).hashStructuredData();
    }

    /** A stranger (anvil's funded first account) calls the token's transferWithAuthorization with the agent's payload. */
    private void submitStraightToToken(Map<String, Object> payload) throws Exception {
        try (DevChainAccount stranger = new DevChainAccount(chain().client().url(), chain().chainId())) {
            stranger.call(chain().usdc().address(), transferWithAuthorization(payload));
        }
    }

    /** The token's EIP-3009 transferWithAuthorization with a stock x402 payload: what anyone who sees it can send. */
    @SuppressWarnings("unchecked")
    private static String transferWithAuthorization(Map<String, Object> payload) {
        Map<String, Object> authorization = (Map<String, Object>) payload.get("authorization");
        byte[] signature = Numeric.hexStringToByteArray((String) payload.get("signature"));
        return FunctionEncoder.encode(new Function("transferWithAuthorization", List.of(
                new Address((String) authorization.get("from")), new Address((String) authorization.get("to")),
                new Uint256(new BigInteger((String) authorization.get("value"))),
                new Uint256(new BigInteger((String) authorization.get("validAfter"))),
                new Uint256(new BigInteger((String) authorization.get("validBefore"))),
                new Bytes32(Numeric.hexStringToByteArray((String) authorization.get("nonce"))),
                new Uint8(Byte.toUnsignedInt(signature[64])),
                new Bytes32(java.util.Arrays.copyOfRange(signature, 0, 32)),
                new Bytes32(java.util.Arrays.copyOfRange(signature, 32, 64))), List.of()));
    }

    /** The stranger's copy sent to the mempool without waiting for it to be mined, with a tip above the relayer's. */
    private void sendStraightToTokenUnmined(Map<String, Object> payload) throws Exception {
        sendUnmined(Credentials.create(EmbeddedAnvil.DEV_FUNDER_PRIVATE_KEY), chain().usdc().address(),
                transferWithAuthorization(payload));
    }

    /** A transaction left in the mempool (blocks are mined by hand), tipped above the relayer's so it is mined first. */
    private void sendUnmined(Credentials sender, String to, String call) throws Exception {
        Web3j web3j = Web3j.build(new HttpService(chain().client().url()));
        try {
            BigInteger nonce = web3j.ethGetTransactionCount(sender.getAddress(), DefaultBlockParameterName.PENDING)
                    .send().getTransactionCount();
            BigInteger tip = Convert.toWei("50", Convert.Unit.GWEI).toBigInteger();
            RawTransaction transaction = RawTransaction.createTransaction(chain().chainId(), nonce,
                    BigInteger.valueOf(300_000), to, BigInteger.ZERO, call, tip, tip.multiply(BigInteger.TWO));
            String signed = Numeric.toHexString(TransactionEncoder.signMessage(transaction, sender));
            assertThat(web3j.ethSendRawTransaction(signed).send().hasError()).isFalse();
        } finally {
            web3j.shutdown();
        }
    }

    @SuppressWarnings("unchecked")
    private void cancelOnChain(Map<String, Object> accepted, Wallet wallet, String nonce) throws Exception {
        byte[] digest = digest("CancelAuthorization", List.of(field("authorizer", "address"), field("nonce", "bytes32")),
                (Map<String, Object>) accepted.get("extra"), (String) accepted.get("asset"),
                Map.of("authorizer", wallet.address(), "nonce", nonce));
        Sign.SignatureData signature = Sign.signMessage(digest, wallet.credentials().getEcKeyPair(), false);
        String call = FunctionEncoder.encode(new Function("cancelAuthorization", List.of(new Address(wallet.address()),
                new Bytes32(Numeric.hexStringToByteArray(nonce)), new Uint8(Byte.toUnsignedInt(signature.getV()[0])),
                new Bytes32(signature.getR()), new Bytes32(signature.getS())), List.of()));
        try (DevChainAccount funder = new DevChainAccount(chain().client().url(), chain().chainId())) {
            funder.call(chain().usdc().address(), call);
        }
        assertThat(chain().usdc().authorizationUsed(wallet.address(), nonce).block(Duration.ofSeconds(5))).isTrue();
    }

    private EscrowDeposit escrowDeposit(String reservationId) {
        String key = EscrowContract.reservationKey(reservationId);
        String answer = chain().client().call(null, chain().escrowAddress(), EscrowContract.depositsCall(key))
                .block(Duration.ofSeconds(5));
        return EscrowContract.decodeDeposit(key, answer);
    }

    @SuppressWarnings("unchecked")
    private static String nonceOf(Map<String, Object> payload) {
        return (String) ((Map<String, Object>) payload.get("authorization")).get("nonce");
    }

    private static String signature(Sign.SignatureData signature) {
        byte[] joined = new byte[65];
        System.arraycopy(signature.getR(), 0, joined, 0, 32);
        System.arraycopy(signature.getS(), 0, joined, 32, 32);
        joined[64] = signature.getV()[0];
        return Numeric.toHexString(joined);
    }

    private static Map<String, String> field(String name, String type) {
        return Map.of("name", name, "type", type);
    }

    private NewAgent externalAgent(Wallet wallet, String funding) throws Exception {
        NewAgent agent = agents.create("x402-wallet", wallet.address()).block(Duration.ofSeconds(10));
        mint(wallet.address(), funding);
        return agent;
    }

    private record Wallet(Credentials credentials) {

        static Wallet create() throws Exception {
            return new Wallet(Credentials.create(Keys.createEcKeyPair()));
        }

        String address() {
            return Keys.toChecksumAddress(credentials.getAddress());
        }
    }

}
