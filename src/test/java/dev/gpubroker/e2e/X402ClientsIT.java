package dev.gpubroker.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.ECKeyPair;
import org.web3j.crypto.Keys;
import org.web3j.protocol.core.methods.response.TransactionReceipt;
import org.web3j.utils.Numeric;

import dev.gpubroker.money.Usdc;
import dev.gpubroker.payments.chain.EscrowDeposit;
import dev.gpubroker.support.AdminClient;
import dev.gpubroker.support.BrokerJar;
import dev.gpubroker.support.JarChain;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The stock x402 clients buy GPU time from the real jar the way they pay any x402 MCP tool, from a wallet of their own:
 * {@code src/test/node/x402-pay.mjs} quotes and reserves over MCP, calls {@code pay} without a payment, lets the library
 * sign what the PaymentRequired accepts (npm @x402/core + @x402/evm for x402 v2, the {@code x402} package for v1, a viem
 * account as the wallet: no code of ours in the signing), calls {@code pay} again with the payload in
 * {@code _meta["x402/payment"]}, runs a command and follows the job until its escrow is closed. The chain is the jar's
 * own anvil; what the test checks there is what the wallet's owner would see: the run cost what the broker billed and
 * the rest came back to the wallet that signed.
 */
class X402ClientsIT {

    /** demo-steady sells H100s at 36 USDC an hour: one minute is 0.60, and a second of use a visible 0.01. */
    private static final String CATALOG_ARG = "--gpubroker.market.demo-catalog=file:"
            + Path.of("src/test/resources/catalogs/jobs.yml").toAbsolutePath();
    private static final Path PAYER_SCRIPT = Path.of("src/test/node/x402-pay.mjs").toAbsolutePath();
    private static final Duration PAYER_TIMEOUT = Duration.ofSeconds(180);
    private static final long FUNDING_MICROS = 5_000_000;
    /** The domain of TestUsdc's EIP-712 signatures, as Circle's USDC has it. */
    private static final String TOKEN_NAME = "USD Coin";
    private static final String TOKEN_VERSION = "2";
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Test
    void theStockX402V2ClientPaysFromItsOwnWalletAndTheUnusedMoneyComesBackToIt() throws Exception {
        try (BrokerJar jar = BrokerJar.startHttp(BrokerJar.newDataDir(), CATALOG_ARG); JarChain chain = JarChain.of(jar)) {
            Wallet wallet = Wallet.create();
            Map<String, JsonNode> steps = pay(jar, chain, wallet, "v2");

            String network = "eip155:" + chain.chainId();
            JsonNode paymentRequired = paymentRequired(steps);
            JsonNode accepted = paymentRequired.get("accepts").get(0);
            assertThat(paymentRequired.get("x402Version").asInt()).isEqualTo(2);
            assertRequirement(accepted, chain, network, reservedMicros(steps), "amount");
            assertThat(paymentRequired.get("extensions").has("payment-identifier"))
                    .as("the server offers the payment-identifier extension: " + paymentRequired).isTrue();

            JsonNode payment = steps.get("payment").get("payload");
            assertThat(payment.get("x402Version").asInt()).isEqualTo(2);
            assertThat(payment.get("accepted").get("network").asString()).isEqualTo(network);
            assertThat(payment.get("extensions").get("payment-identifier").get("info").get("id").asString())
                    .as("the client named its payment with the extension").isNotBlank();
            assertPaidRanAndRefunded(steps, chain, wallet, network);
        }
    }

    @Test
    void theX402V1ClientPaysOnBaseSepoliaByTheNetworksV1Name() throws Exception {
        try (BrokerJar jar = BrokerJar.startHttp(BrokerJar.newDataDir(), CATALOG_ARG,
                "--gpubroker.chain.chain-id=84532"); JarChain chain = JarChain.of(jar)) {
            assertThat(chain.chainId()).as("Base Sepolia's chain id, which x402 v1 calls base-sepolia").isEqualTo(84532);
            Wallet wallet = Wallet.create();
            Map<String, JsonNode> steps = pay(jar, chain, wallet, "v1");

            JsonNode paymentRequired = paymentRequired(steps);
            assertRequirement(paymentRequired.get("accepts").get(0), chain, "eip155:84532", reservedMicros(steps), "amount");
            JsonNode v1Requirement = null;
            for (JsonNode requirement : paymentRequired.get("accepts")) {
                if ("base-sepolia".equals(requirement.get("network").asString())) {
                    v1Requirement = requirement;
                }
            }
            assertThat(v1Requirement).as("accepts[] has an entry a v1 client can pay: " + paymentRequired).isNotNull();
            assertRequirement(v1Requirement, chain, "base-sepolia", reservedMicros(steps), "maxAmountRequired");

            JsonNode payment = steps.get("payment").get("payload");
            assertThat(payment.get("x402Version").asInt()).isEqualTo(1);
            assertThat(payment.get("scheme").asString()).isEqualTo("exact");
            assertThat(payment.get("network").asString()).isEqualTo("base-sepolia");
            assertPaidRanAndRefunded(steps, chain, wallet, "base-sepolia");
        }
    }

    /** An agent with its own wallet, funded on the jar's chain, pays with the client of {@code x402Version}. */
    private static Map<String, JsonNode> pay(BrokerJar jar, JarChain chain, Wallet wallet, String x402Version)
            throws Exception {
        AdminClient admin = new AdminClient(URI.create("http://127.0.0.1:" + jar.port()), jar.dataDir());
        var created = admin.post("/admin/v1/agents",
                "{\"name\": \"x402-" + x402Version + "-payer\", \"walletAddress\": \"" + wallet.address() + "\"}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        String apiKey = JSON.readTree(created.body()).get("apiKey").asString();
        chain.mintTestUsdc(wallet.address(), FUNDING_MICROS);
        assertThat(chain.usdcMicros(wallet.address())).isEqualTo(FUNDING_MICROS);

        BrokerJar.Result run = BrokerJar.run(List.of("node", PAYER_SCRIPT.toString()), Map.of(
                "GPUBROKER_MCP_URL", jar.mcpUrl(),
                "GPUBROKER_API_KEY", apiKey,
                "X402_PRIVATE_KEY", wallet.privateKeyHex(),
                "X402_CLIENT", x402Version), PAYER_TIMEOUT);
        assertThat(run.exitCode()).as("the payer's output:\n" + run.output() + "\nserver log:\n" + jar.log()).isZero();
        Map<String, JsonNode> steps = new HashMap<>();
        for (String line : run.output().lines().toList()) {
            if (line.startsWith("{\"step\"")) {
                JsonNode step = JSON.readTree(line);
                steps.put(step.get("step").asString(), step);
            }
        }
        assertThat(steps).as(run.output()).containsKeys("reserve", "payment-required", "payment", "paid", "settled");
        return steps;
    }

    /**
     * The unpaid call's answer: a tool error whose structuredContent is the PaymentRequired and whose text says the same
     * as JSON (the transport's tool-result binding), for clients that read only text.
     */
    private static JsonNode paymentRequired(Map<String, JsonNode> steps) {
        JsonNode result = steps.get("payment-required").get("result");
        assertThat(result.path("isError").asBoolean()).as("pay without a payment is refused: " + result).isTrue();
        JsonNode paymentRequired = result.get("structuredContent");
        JsonNode text = JSON.readTree(result.get("content").get(0).get("text").asString());
        assertThat(text).as("content[0].text is the same PaymentRequired as JSON").isEqualTo(paymentRequired);
        return paymentRequired;
    }

    /** Pay {@code micros} of the test USDC to the escrow on {@code network}, signed over the token's own domain. */
    private static void assertRequirement(JsonNode requirement, JarChain chain, String network, long micros,
            String amountField) {
        assertThat(requirement.get("scheme").asString()).isEqualTo("exact");
        assertThat(requirement.get("network").asString()).isEqualTo(network);
        assertThat(requirement.get(amountField).asString()).isEqualTo(Long.toString(micros));
        assertThat(requirement.get("asset").asString()).isEqualToIgnoringCase(chain.usdc());
        assertThat(requirement.get("payTo").asString()).as("paid into the escrow").isEqualToIgnoringCase(chain.escrow());
        assertThat(requirement.get("maxTimeoutSeconds").asLong()).isPositive();
        assertThat(requirement.get("extra").get("name").asString()).isEqualTo(TOKEN_NAME);
        assertThat(requirement.get("extra").get("version").asString()).isEqualTo(TOKEN_VERSION);
    }

    /**
     * The paid call confirmed the payment from the wallet, the job ran and was settled, and on chain the wallet is down by
     * exactly what the broker billed: the rest of the deposit came back to the wallet that signed, the seller got the
     * bill, and the escrow keeps nothing.
     */
    private static void assertPaidRanAndRefunded(Map<String, JsonNode> steps, JarChain chain, Wallet wallet,
            String network) {
        JsonNode payment = steps.get("payment").get("payload");
        assertThat(payment.get("payload").get("authorization").get("from").asString())
                .isEqualToIgnoringCase(wallet.address());

        JsonNode paid = steps.get("paid").get("result");
        assertThat(paid.path("isError").asBoolean()).as(paid.toString()).isFalse();
        assertThat(paid.get("structuredContent").get("status").asString()).isEqualTo("confirmed");
        assertThat(paid.get("structuredContent").get("payer").asString()).isEqualToIgnoringCase(wallet.address());
        JsonNode settlement = paid.get("_meta").get("x402/payment-response");
        assertThat(settlement.get("success").asBoolean()).as(settlement.toString()).isTrue();
        assertThat(settlement.get("payer").asString()).isEqualToIgnoringCase(wallet.address());
        assertThat(settlement.get("network").asString()).isEqualTo(network);
        String transaction = settlement.get("transaction").asString();
        assertThat(transaction).matches("0x[0-9a-f]{64}");
        TransactionReceipt receipt = chain.receipt(transaction).orElseThrow();
        assertThat(receipt.isStatusOK()).as("the payment's transaction succeeded on chain").isTrue();
        assertThat(chain.usdcTransfers(transaction)).as("it moved the reserved amount from the wallet into the escrow")
                .contains(new JarChain.Transfer(wallet.address().toLowerCase(), chain.escrow().toLowerCase(),
                        reservedMicros(steps)));

        JsonNode settled = steps.get("settled").get("result");
        assertThat(settled.get("status").asString()).as(settled.toString()).isEqualTo("completed");
        assertThat(settled.get("exitCode").asInt()).isZero();
        assertThat(settled.get("escrowClosed").asBoolean()).isTrue();
        long reserved = reservedMicros(steps);
        long billed = Usdc.parse(settled.get("cost").asString()).micros();
        long refunded = Usdc.parse(settled.get("refund").asString()).micros();
        assertThat(billed).as("the job ran a second or more at 0.01 USDC a second").isPositive();
        assertThat(refunded).as("most of the minute paid for was not used: there is a refund to see").isPositive();
        assertThat(billed + refunded).isEqualTo(reserved);

        String reservationId = steps.get("reserve").get("result").get("reservationId").asString();
        EscrowDeposit deposit = chain.deposit(reservationId);
        assertThat(deposit.payer()).as("the escrow recorded the wallet as the payer").isEqualToIgnoringCase(wallet.address());
        assertThat(deposit.amount().longValueExact()).isEqualTo(reserved);
        assertThat(deposit.state()).isEqualTo(EscrowDeposit.State.SETTLED);
        assertThat(deposit.paidOut().longValueExact()).isEqualTo(billed);
        assertThat(deposit.refunded().longValueExact()).isEqualTo(refunded);
        assertThat(chain.usdcMicros(wallet.address())).as("the refund reached the wallet that signed")
                .isEqualTo(FUNDING_MICROS - billed);
        assertThat(chain.usdcMicros(deposit.payee())).as("the seller got the bill").isEqualTo(billed);
        assertThat(chain.usdcMicros(chain.escrow())).as("the escrow keeps nothing").isZero();
    }

    private static long reservedMicros(Map<String, JsonNode> steps) {
        return Usdc.parse(steps.get("reserve").get("result").get("amount").asString()).micros();
    }

    /** A fresh key of the test's own: the agent's wallet, which the broker never holds. */
    private record Wallet(String address, String privateKeyHex) {

        static Wallet create() throws Exception {
            ECKeyPair keys = Keys.createEcKeyPair();
            return new Wallet(Credentials.create(keys).getAddress(),
                    Numeric.toHexStringWithPrefixZeroPadded(keys.getPrivateKey(), 64));
        }

        @Override
        public String toString() {
            return "Wallet[address=" + address + ", privateKeyHex=<redacted>]";
        }
    }
}
