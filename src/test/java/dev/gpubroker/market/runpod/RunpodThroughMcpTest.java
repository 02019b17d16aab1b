package dev.gpubroker.market.runpod;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.time.Duration;
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
import org.springframework.test.context.TestPropertySource;

import dev.gpubroker.config.BrokerProperties;
import dev.gpubroker.identity.NewAgent;
import dev.gpubroker.market.ProviderContract;
import dev.gpubroker.market.remote.ApiKeys;
import dev.gpubroker.market.remote.ReadinessProbe;
import dev.gpubroker.money.Usdc;
import dev.gpubroker.payments.chain.PaymentChain;
import dev.gpubroker.support.AdminClient;
import dev.gpubroker.support.BrokerIntegrationTest;
import io.modelcontextprotocol.client.McpSyncClient;

/**
 * A real provider's fake (RunPod's REST API v2 on WireMock) beside the demo marketplace, driven through MCP by the
 * official Java SDK client: a job whose GPU is not the one promised is never billed and moves to the demo
 * marketplace; a job on the GPU promised is billed from the readiness probe on and settled.
 */
@TestPropertySource(properties = "gpubroker.market.demo-catalog=classpath:catalogs/real-provider-failover.yml")
class RunpodThroughMcpTest extends BrokerIntegrationTest {

    private static final RunpodFake RUNPOD = new RunpodFake();
    private static final String A100_PROBE = ReadinessProbe.PREFIX + "NVIDIA A100 80GB PCIe, 81920;";

    @Autowired
    PaymentChain paymentChain;

    @org.springframework.beans.factory.annotation.Value("${gpubroker.data-dir}")
    String dataDir;

    @DynamicPropertySource
    static void runpodApi(DynamicPropertyRegistry registry) {
        registry.add("gpubroker.providers.runpod.base-url", RUNPOD::baseUrl);
        registry.add("gpubroker.providers.runpod.log-window", () -> "300ms");
        // Each read of the fake's pod list moves a pod one step: poll at the broker's pace, not RunPod's 10 s.
        registry.add("gpubroker.providers.runpod.status-poll-interval", () -> "1s");
        // ... which costs more calls a minute than the broker's own default bound allows a key.
        registry.add("gpubroker.providers.calls-per-minute", () -> "10000");
    }

    /** The operator's RunPod key, as the server would read it from RUNPOD_API_KEY. */
    @TestConfiguration
    static class OperatorKey {
        @Bean
        @Primary
        ApiKeys operatorsKeys(BrokerProperties properties) {
            return new ApiKeys(Map.of(RunpodProviders.KEY_VARIABLE, RunpodFake.API_KEY), properties.dataDir());
        }
    }

    @AfterAll
    static void stopRunpod() {
        RUNPOD.close();
    }

    @BeforeEach
    void wellBehavedRunpod() {
        RUNPOD.reset();
    }

    @Test
    void aGpuThatIsNotTheOnePromisedIsNeverBilledAndTheJobMovesToTheDemoMarketplace() throws Exception {
        RUNPOD.lifecycle("PROVISIONING", "RUNNING");
        RUNPOD.logLines(A100_PROBE, "should never be seen");
        NewAgent agent = newAgent("runpod-failover");
        String wallet = agent.agent().walletAddress();
        paymentChain.mintTestUsdc(wallet, Usdc.parse("10.00"));
        McpSyncClient client = client(agent.apiKey());
        assertThat(output(call(client, "account", Map.of())).get("providers").toString()).contains("runpod", "demo-backup");

        String reservationId = paidReservation(client, "H100", "runpod", 60, "runpod-failover-1");
        String jobId = (String) output(call(client, "run", Map.of("reservationId", reservationId, "idempotencyKey",
                "runpod-failover-run", "command", List.of("sh", "-c", "echo finished on $GPUBROKER_JOB_ID")))).get("jobId");
        Map<String, Object> status = awaitSettled(client, jobId);

        assertThat(status).containsEntry("status", "completed").containsEntry("provider", "demo-backup");
        String events = status.get("events").toString();
        assertThat(events).contains("node_lost").contains("not the GPU promised").contains("A100-80GB")
                .contains("failover").contains("moved to demo-backup offer backup-h100");
        assertThat(events.indexOf("node_lost")).isLessThan(events.indexOf("failover"));
        assertThat(status.get("readiness")).as("the demo marketplace runs no probe").isNull();
        long gpuSeconds = ((Number) status.get("gpuSeconds")).longValue();
        long costMicros = Math.ceilDiv(2_000_000L * gpuSeconds, 3600L);
        assertThat(status).as("only the run on demo-backup is billed, at its price")
                .containsEntry("cost", Usdc.ofMicros(costMicros).toDecimalString());
        assertThat(RUNPOD.server.findAll(com.github.tomakehurst.wiremock.client.WireMock.deleteRequestedFor(
                com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching("/v2/pods/.*")))).as("the pod is deleted")
                .isNotEmpty();
        assertThat(balance(wallet)).as("the agent paid only what ran on demo-backup")
                .isEqualTo(BigInteger.valueOf(10_000_000 - costMicros));
    }

    @Test
    void aJobOnThePromisedGpuIsBilledFromItsReadinessProbeAndSettled() throws Exception {
        RUNPOD.lifecycle("PROVISIONING", "STARTING", "RUNNING", "RUNNING", "EXITED");
        RUNPOD.logLines(RunpodFake.H100_PROBE, ProviderContract.MARKER, RunpodCommand.EXIT_PREFIX + "0");
        McpSyncClient client = fundedClient("runpod-happy");
        String jobId = runNvidiaSmiOnRunpod(client, "runpod-happy");
        Map<String, Object> status = awaitSettled(client, jobId);

        assertThat(status).containsEntry("status", "completed").containsEntry("provider", "runpod");
        assertThat(status.get("readiness")).isEqualTo("1 x H100 found by nvidia-smi");
        assertThat(status.get("billingStartedAt")).isNotNull().isEqualTo(status.get("startedAt"));
        String events = status.get("events").toString();
        assertThat(events.indexOf("ready")).as("the probe passed before metering began")
                .isLessThan(events.indexOf("running"));
        assertThat(output(call(client, "job_logs", Map.of("jobId", jobId))).get("lines").toString())
                .contains(ProviderContract.MARKER).doesNotContain("GPUBROKER_");

        // RunPod's billing history lists this job's pod and one the broker never metered: the operator sees the gap.
        Instant bucket = Instant.now().truncatedTo(ChronoUnit.HOURS);
        RUNPOD.server.stubFor(com.github.tomakehurst.wiremock.client.WireMock.get(
                        com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo("/v2/billing/pods"))
                .willReturn(RunpodFake.json(200, RunpodFake.fixture("billing-pods.json")
                        .replace("{{bucketEnd}}", bucket.plus(1, ChronoUnit.HOURS).toString())
                        .replace("{{bucket}}", bucket.toString()))));
        var response = new AdminClient(baseUri(), Path.of(dataDir)).get("/admin/v1/providers/runpod/billing?from="
                + bucket.minus(1, ChronoUnit.HOURS) + "&to=" + bucket.plus(1, ChronoUnit.HOURS));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        Map<String, Object> report = json.readValue(response.body(), new tools.jackson.core.type.TypeReference<Map<String, Object>>() { });
        assertThat(report).containsEntry("provider", "runpod").containsEntry("brokerJobs", 1)
                .containsEntry("providerGpuUsd", "0.52").containsEntry("providerTotalUsd", "0.55");
        BigDecimal brokerCost = new BigDecimal((String) report.get("brokerCostAtProviderPrices"));
        assertThat(brokerCost).isEqualByComparingTo(new BigDecimal((String) status.get("cost")));
        assertThat(new BigDecimal((String) report.get("differenceUsd")))
                .isEqualByComparingTo(new BigDecimal("0.52").subtract(brokerCost));
        assertThat(report.get("providerCharges").toString()).contains("x2b4d6f8h0", "7h9k2m4n6p");
        RUNPOD.server.verify(com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor(
                        com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo("/v2/billing/pods"))
                .withQueryParam("bucketSize", com.github.tomakehurst.wiremock.client.WireMock.equalTo("hour")));
        assertThat(new AdminClient(baseUri(), Path.of(dataDir)).get("/admin/v1/providers/demo-backup/billing")
                .statusCode()).as("the demo marketplace has no billing history").isEqualTo(404);
        assertThat(new AdminClient(baseUri(), Path.of(dataDir)).get("/admin/v1/providers/runpod/billing?from=yesterday")
                .statusCode()).isEqualTo(400);
    }

    @Test
    void anEndTheJobReportsFromBeforeTheBrokerLastSawItRunningIsBilledToThatSighting() throws Exception {
        // The job's last lines (its exit line among them) are stamped 3 s after the pod was created, but RunPod says
        // the pod runs for ten more reads: a job that went quiet, or printed its end early, then kept the GPU.
        RUNPOD.lifecycle("PROVISIONING", "RUNNING", "RUNNING", "RUNNING", "RUNNING", "RUNNING", "RUNNING", "RUNNING",
                "RUNNING", "RUNNING", "RUNNING", "EXITED");
        RUNPOD.logLines(RunpodFake.H100_PROBE, ProviderContract.MARKER, RunpodCommand.EXIT_PREFIX + "0");
        McpSyncClient client = fundedClient("runpod-quiet");
        Map<String, Object> status = awaitSettled(client, runNvidiaSmiOnRunpod(client, "runpod-quiet"));

        assertThat(status).containsEntry("status", "completed");
        Instant startedAt = Instant.parse((String) status.get("startedAt"));
        Instant endedAt = Instant.parse((String) status.get("endedAt"));
        long gpuSeconds = ((Number) status.get("gpuSeconds")).longValue();
        assertThat(Duration.between(startedAt, endedAt)).as("billed to the broker's last sighting of the pod running, "
                + "not to the end the job's lines report (2 s after its start)").isGreaterThan(Duration.ofSeconds(4));
        assertThat(gpuSeconds).isGreaterThanOrEqualTo(5);
    }

    /** A new agent holding 10.00 test USDC, connected over MCP. */
    private McpSyncClient fundedClient(String name) throws Exception {
        NewAgent agent = newAgent(name);
        paymentChain.mintTestUsdc(agent.agent().walletAddress(), Usdc.parse("10.00"));
        return client(agent.apiKey());
    }

    /** Reserves an hour of one H100 at RunPod, pays it and runs nvidia-smi there: the job's id. */
    private String runNvidiaSmiOnRunpod(McpSyncClient client, String name) throws Exception {
        String reservationId = paidReservation(client, "H100", "runpod", 60, name + "-1");
        return (String) output(call(client, "run", Map.of("reservationId", reservationId, "idempotencyKey",
                name + "-run", "command", List.of("nvidia-smi")))).get("jobId");
    }

    private BigInteger balance(String address) {
        return paymentChain.context().usdc().balanceOf(address).block(Duration.ofSeconds(10));
    }
}
