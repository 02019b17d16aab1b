package dev.gpubroker.payments;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.test.context.TestPropertySource;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.ECKeyPair;
import org.web3j.crypto.Keys;
import org.web3j.crypto.Sign;
import org.web3j.crypto.StructuredDataEncoder;
import org.web3j.utils.Numeric;

import io.modelcontextprotocol.client.McpSyncClient;

import dev.gpubroker.identity.NewAgent;

/**
 * An agent that holds its own wallet signs the EIP-3009 authorization itself, here with web3j's EIP-712 encoder from
 * nothing but the reservation's paymentRequirements, as any x402 client would.
 */
@TestPropertySource(properties = "gpubroker.market.demo-catalog=classpath:catalogs/payments.yml")
class AgentSignedPaymentTest extends PaymentTestSupport {

    @Test
    void anAgentThatSignsItselfPaysWithItsOwnAuthorization() throws Exception {
        Wallet wallet = Wallet.create();
        McpSyncClient client = client(externalAgent(wallet, "50.00").apiKey());
        Map<String, Object> reservation = reserve(client, "H100", 60, "reserve-signed-1");
        Map<String, Object> authorization = authorizationFor(reservation, wallet, Map.of());

        Map<String, Object> payment = output(call(client, "pay", Map.of("reservationId", reservation.get("reservationId"),
                "idempotencyKey", "pay-signed-1", "authorization", authorization,
                "signature", sign(reservation, authorization, wallet.credentials()))));

        assertThat(payment).containsEntry("status", "confirmed").containsEntry("method", "signed_by_agent")
                .containsEntry("payer", wallet.address());
        assertThat(usdcOf(wallet.address())).isEqualTo(BigInteger.valueOf(47_600_000));
        assertThat(ledgerImbalance()).isZero();
    }

    @Test
    void everyFaultyAuthorizationIsRefusedBeforeAnythingIsSubmitted() throws Exception {
        Wallet wallet = Wallet.create();
        Wallet stranger = Wallet.create();
        McpSyncClient client = client(externalAgent(wallet, "50.00").apiKey());
        Map<String, Object> reservation = reserve(client, "H100", 60, "reserve-faulty-1");
        Map<String, Object> good = authorizationFor(reservation, wallet, Map.of());
        BigInteger escrowBefore = escrowBalance();
        long transactionsBefore = count("chain_transactions");

        // Signed by another key.
        assertThat(pay(client, reservation, "faulty-1", good, sign(reservation, good, stranger.credentials())))
                .containsEntry("code", "invalid_authorization").containsEntry("field", "signature");
        // Not 65 bytes of signature.
        assertThat(pay(client, reservation, "faulty-2", good, "0x" + "ab".repeat(65)))
                .containsEntry("field", "signature");
        // Wrong amount.
        Map<String, Object> cheaper = authorizationFor(reservation, wallet, Map.of("value", "1000000"));
        assertThat(pay(client, reservation, "faulty-3", cheaper, sign(reservation, cheaper, wallet.credentials())))
                .containsEntry("field", "authorization.value");
        // Wrong payee (not the escrow).
        Map<String, Object> elsewhere = authorizationFor(reservation, wallet, Map.of("to", stranger.address()));
        assertThat(pay(client, reservation, "faulty-4", elsewhere, sign(reservation, elsewhere, wallet.credentials())))
                .containsEntry("field", "authorization.to");
        // Expired.
        Map<String, Object> expired = authorizationFor(reservation, wallet,
                Map.of("validBefore", Long.toString(Instant.now().minusSeconds(60).getEpochSecond())));
        assertThat(pay(client, reservation, "faulty-5", expired, sign(reservation, expired, wallet.credentials())))
                .containsEntry("field", "authorization.validBefore");
        // A nonce of the agent's choosing instead of the one binding the escrow terms.
        Map<String, Object> ownNonce = authorizationFor(reservation, wallet, Map.of("nonce", "0x" + "11".repeat(32)));
        assertThat(pay(client, reservation, "faulty-6", ownNonce, sign(reservation, ownNonce, wallet.credentials())))
                .containsEntry("field", "authorization.nonce");
        // From a wallet that is not the agent's.
        Map<String, Object> notMine = authorizationFor(reservation, stranger, Map.of());
        assertThat(pay(client, reservation, "faulty-7", notMine, sign(reservation, notMine, stranger.credentials())))
                .containsEntry("field", "authorization.from");
        // No signature at all for a wallet the server does not hold.
        assertThat(error(call(client, "pay", Map.of("reservationId", reservation.get("reservationId"),
                "idempotencyKey", "faulty-8")))).containsEntry("code", "signature_required");

        assertThat(escrowBalance()).isEqualTo(escrowBefore);
        assertThat(usdcOf(wallet.address())).isEqualTo(BigInteger.valueOf(50_000_000));
        assertThat(count("chain_transactions")).isEqualTo(transactionsBefore);
        assertThat(count("payments", "reservation_id = :r", Map.of("r", reservation.get("reservationId")))).isZero();
        // The good authorization still works afterwards: nothing was used up.
        assertThat(output(call(client, "pay", Map.of("reservationId", reservation.get("reservationId"),
                "idempotencyKey", "faulty-ok", "authorization", good, "signature", sign(reservation, good, wallet.credentials())))))
                .containsEntry("status", "confirmed");
    }

    @Test
    void anAgentWithoutEnoughUsdcIsRefusedBeforeSubmitting() throws Exception {
        Wallet wallet = Wallet.create();
        McpSyncClient client = client(externalAgent(wallet, "1.00").apiKey());
        Map<String, Object> reservation = reserve(client, "H100", 60, "reserve-poor-1");
        Map<String, Object> authorization = authorizationFor(reservation, wallet, Map.of());

        assertThat(pay(client, reservation, "poor-pay-1", authorization, sign(reservation, authorization, wallet.credentials())))
                .containsEntry("code", "insufficient_usdc");
        assertThat(usdcOf(wallet.address())).isEqualTo(BigInteger.valueOf(1_000_000));
    }

    @Test
    void anAuthorizationWhoseNonceTheAgentCancelledOnChainIsRefused() throws Exception {
        Wallet wallet = Wallet.create();
        McpSyncClient client = client(externalAgent(wallet, "50.00").apiKey());
        Map<String, Object> reservation = reserve(client, "H100", 60, "reserve-cancel-1");
        Map<String, Object> authorization = authorizationFor(reservation, wallet, Map.of());
        cancelOnChain(reservation, wallet, (String) authorization.get("nonce"));

        assertThat(pay(client, reservation, "cancelled-1", authorization, sign(reservation, authorization, wallet.credentials())))
                .containsEntry("code", "invalid_authorization").containsEntry("field", "authorization.nonce");
        assertThat(usdcOf(wallet.address())).isEqualTo(BigInteger.valueOf(50_000_000));
    }

    /** EIP-3009 cancelAuthorization, signed by the agent and submitted by anvil's funded first account. */
    @SuppressWarnings("unchecked")
    private void cancelOnChain(Map<String, Object> reservation, Wallet wallet, String nonce) throws Exception {
        Map<String, Object> requirements = requirements(reservation);
        Map<String, Object> extra = (Map<String, Object>) requirements.get("extra");
        Map<String, Object> typedData = Map.of(
                "types", Map.of(
                        "EIP712Domain", List.of(field("name", "string"), field("version", "string"),
                                field("chainId", "uint256"), field("verifyingContract", "address")),
                        "CancelAuthorization", List.of(field("authorizer", "address"), field("nonce", "bytes32"))),
                "primaryType", "CancelAuthorization",
                "domain", Map.of("name", extra.get("name"), "version", extra.get("version"), "chainId", chain().chainId(),
                        "verifyingContract", requirements.get("asset")),
                "message", Map.of("authorizer", wallet.address(), "nonce", nonce));
        byte[] digest = new StructuredDataEncoder(json.writeValueAsString(typedData)).hashStructuredData();
        Sign.SignatureData signature = Sign.signMessage(digest, wallet.credentials().getEcKeyPair(), false);
        String call = org.web3j.abi.FunctionEncoder.encode(new org.web3j.abi.datatypes.Function("cancelAuthorization",
                List.of(new org.web3j.abi.datatypes.Address(wallet.address()),
                        new org.web3j.abi.datatypes.generated.Bytes32(Numeric.hexStringToByteArray(nonce)),
                        new org.web3j.abi.datatypes.generated.Uint8(Byte.toUnsignedInt(signature.getV()[0])),
                        new org.web3j.abi.datatypes.generated.Bytes32(signature.getR()),
                        new org.web3j.abi.datatypes.generated.Bytes32(signature.getS())), List.of()));
        try (var funder = new dev.gpubroker.payments.chain.DevChainAccount(chain().client().url(), chain().chainId())) {
            funder.call((String) requirements.get("asset"), call);
        }
        assertThat(chain().usdc().authorizationUsed(wallet.address(), nonce).block(Duration.ofSeconds(5))).isTrue();
    }

    private Map<String, Object> pay(McpSyncClient client, Map<String, Object> reservation, String key,
            Map<String, Object> authorization, String signature) {
        return error(call(client, "pay", Map.of("reservationId", reservation.get("reservationId"), "idempotencyKey", key,
                "authorization", authorization, "signature", signature)));
    }

    private NewAgent externalAgent(Wallet wallet, String funding) throws Exception {
        NewAgent agent = agents.create("self-custody", wallet.address()).block(Duration.ofSeconds(10));
        mint(wallet.address(), funding);
        return agent;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> requirements(Map<String, Object> reservation) {
        return (Map<String, Object>) reservation.get("paymentRequirements");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> authorizationFor(Map<String, Object> reservation, Wallet from,
            Map<String, Object> overrides) {
        Map<String, Object> requirements = requirements(reservation);
        Map<String, Object> extra = (Map<String, Object>) requirements.get("extra");
        Map<String, Object> authorization = new HashMap<>(Map.of(
                "from", from.address(),
                "to", requirements.get("payTo"),
                "value", requirements.get("amount"),
                "validAfter", "0",
                "validBefore", extra.get("validBefore"),
                "nonce", extra.get("nonce")));
        authorization.putAll(overrides);
        return authorization;
    }

    /** EIP-712 signature over ReceiveWithAuthorization, with the domain the paymentRequirements give. */
    @SuppressWarnings("unchecked")
    private String sign(Map<String, Object> reservation, Map<String, Object> authorization, Credentials signer)
            throws Exception {
        Map<String, Object> requirements = requirements(reservation);
        Map<String, Object> extra = (Map<String, Object>) requirements.get("extra");
        long chainId = Long.parseLong(((String) requirements.get("network")).substring("eip155:".length()));
        Map<String, Object> typedData = Map.of(
                "types", Map.of(
                        "EIP712Domain", List.of(field("name", "string"), field("version", "string"),
                                field("chainId", "uint256"), field("verifyingContract", "address")),
                        "ReceiveWithAuthorization", List.of(field("from", "address"), field("to", "address"),
                                field("value", "uint256"), field("validAfter", "uint256"), field("validBefore", "uint256"),
                                field("nonce", "bytes32"))),
                "primaryType", "ReceiveWithAuthorization",
                "domain", Map.of("name", extra.get("name"), "version", extra.get("version"), "chainId", chainId,
                        "verifyingContract", requirements.get("asset")),
                "message", authorization);
        byte[] digest = new StructuredDataEncoder(json.writeValueAsString(typedData)).hashStructuredData();
        Sign.SignatureData signature = Sign.signMessage(digest, signer.getEcKeyPair(), false);
        byte[] joined = new byte[65];
        System.arraycopy(signature.getR(), 0, joined, 0, 32);
        System.arraycopy(signature.getS(), 0, joined, 32, 32);
        joined[64] = signature.getV()[0];
        return Numeric.toHexString(joined);
    }

    private static Map<String, String> field(String name, String type) {
        return Map.of("name", name, "type", type);
    }

    private record Wallet(Credentials credentials) {

        static Wallet create() throws Exception {
            ECKeyPair keys = Keys.createEcKeyPair();
            return new Wallet(Credentials.create(keys));
        }

        String address() {
            return Keys.toChecksumAddress(credentials.getAddress());
        }
    }
}
