package dev.gpubroker.market.shadeform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Primary;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import com.github.tomakehurst.wiremock.client.WireMock;

import dev.gpubroker.config.BrokerProperties;
import dev.gpubroker.identity.NewAgent;
import dev.gpubroker.market.ProviderContract;
import dev.gpubroker.market.remote.ApiKeys;
import dev.gpubroker.money.Usdc;
import dev.gpubroker.payments.chain.PaymentChain;
import dev.gpubroker.support.BrokerIntegrationTest;
import io.modelcontextprotocol.client.McpSyncClient;

/**
 * Shadeform's fake, with a real VM of its own per instance (an SSH server running the container for real), driven
 * through MCP by the official Java SDK client and the real job engine: the image pull is not billed, the job is billed
 * from the Docker daemon's stamp of its readiness probe's line to its container's exit, its output is read on the VM,
 * and the VM is deleted once the output has been kept for the retention.
 */
class ShadeformThroughMcpTest extends BrokerIntegrationTest {

    private static final ShadeformFake SHADEFORM = new ShadeformFake();
    private static final long H100_MICROS_PER_HOUR = 1_900_000L;

    @Autowired
    PaymentChain paymentChain;

    @DynamicPropertySource
    static void shadeformApi(DynamicPropertyRegistry registry) {
        registry.add("gpubroker.providers.shadeform.base-url", SHADEFORM::baseUrl);
        // Each read of an instance's info moves it one step: poll at the broker's pace, not Shadeform's 10 s.
        registry.add("gpubroker.providers.shadeform.status-poll-interval", () -> "1s");
        registry.add("gpubroker.providers.shadeform.log-retention", () -> "3s");
        registry.add("gpubroker.providers.calls-per-minute", () -> "10000");
    }

    /** The operator's Shadeform key, as the server would read it from SHADEFORM_API_KEY. */
    @TestConfiguration
    static class OperatorKey {
        @Bean
        @Primary
        ApiKeys operatorsKeys(BrokerProperties properties) {
            return new ApiKeys(Map.of(ShadeformProviders.KEY_VARIABLE, ShadeformFake.API_KEY), properties.dataDir());
        }
    }

    @AfterAll
    static void stopShadeform() {
        SHADEFORM.close();
    }

    @BeforeEach
    void wellBehavedShadeform() {
        SHADEFORM.reset();
    }

    @Test
    void aJobIsBilledFromItsReadinessProbeToItsExitNotForThePullAndItsOutputIsReadOnItsVm() throws Exception {
        SHADEFORM.pullTime(Duration.ofSeconds(4));
        NewAgent agent = newAgent("shadeform-happy");
        String wallet = agent.agent().walletAddress();
        paymentChain.mintTestUsdc(wallet, Usdc.parse("10.00"));
        McpSyncClient client = client(agent.apiKey());
        assertThat(output(call(client, "account", Map.of())).get("providers").toString()).contains("shadeform");

        String reservationId = paidReservation(client, "H100", "shadeform", 60, "shadeform-happy-1");
        Instant runAt = Instant.now();
        String jobId = (String) output(call(client, "run", Map.of("reservationId", reservationId, "idempotencyKey",
                "shadeform-happy-run", "command", List.of("sh", "-c",
                        "nvidia-smi; echo " + ProviderContract.MARKER + "; sleep 2")))).get("jobId");
        Map<String, Object> status = awaitSettled(client, jobId);

        assertThat(status).containsEntry("status", "completed").containsEntry("provider", "shadeform");
        assertThat(status.get("readiness")).isEqualTo("1 x H100 found by nvidia-smi");
        String events = status.get("events").toString();
        assertThat(events.indexOf("ready")).as("the probe passed before metering began").isLessThan(events.indexOf("running"));
        Instant startedAt = Instant.parse((String) status.get("billingStartedAt"));
        assertThat(Duration.between(runAt, startedAt)).as("the 4 s image pull is not billed")
                .isGreaterThanOrEqualTo(Duration.ofSeconds(4));
        long gpuSeconds = ((Number) status.get("gpuSeconds")).longValue();
        assertThat(gpuSeconds).as("the job's 2 s, from its probe line to its container's exit").isBetween(2L, 4L);
        long costMicros = Math.ceilDiv(H100_MICROS_PER_HOUR * gpuSeconds, 3600L);
        assertThat(status).containsEntry("cost", Usdc.ofMicros(costMicros).toDecimalString());

        assertThat(output(call(client, "job_logs", Map.of("jobId", jobId))).get("lines").toString())
                .contains(ProviderContract.MARKER).contains("NVIDIA H100 80GB HBM3");
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> assertThat(SHADEFORM.server.findAll(
                WireMock.postRequestedFor(WireMock.urlPathMatching("/v1/instances/[^/]+/delete"))))
                .as("the VM is deleted once its output was kept for the retention").hasSize(1));
        assertThat(balance(wallet)).as("the agent paid for the seconds its job ran, nothing for the VM's boot or pull")
                .isEqualTo(BigInteger.valueOf(10_000_000 - costMicros));
    }

    private BigInteger balance(String address) {
        return paymentChain.context().usdc().balanceOf(address).block(Duration.ofSeconds(10));
    }
}
