package dev.gpubroker.market.runpod;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;

import java.math.BigDecimal;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

import dev.gpubroker.market.ComputeProvider;
import dev.gpubroker.market.LaunchRequest;
import dev.gpubroker.market.ProviderContract;
import dev.gpubroker.market.ProviderFault;
import dev.gpubroker.market.remote.ApiKey;
import dev.gpubroker.market.remote.ProviderPricing;
import dev.gpubroker.market.remote.RemoteProvidersConfiguration.RemoteHttp;
import org.springframework.web.reactive.function.client.WebClient;

/** RunPod keeps the provider contract against a fake of its REST API v2, faults included. */
class RunpodProviderContractTest extends ProviderContract {

    private static final String H100_SECURE = "NVIDIA H100 80GB HBM3:SECURE:H100";

    private RunpodFake fake;
    private ComputeProvider provider;

    @BeforeEach
    void aWellBehavedRunpod() {
        fake = new RunpodFake();
        provider = RunpodProviders.create(RunpodSettings.defaults(fake.baseUrl()), new ApiKey(RunpodFake.API_KEY, "test"),
                new RemoteHttp(WebClient.builder()), new ProviderPricing(BigDecimal.ZERO), Clock.systemUTC());
        // Netty reads system files once, in static initialisers (NetUtil: /proc/sys/net/core/somaxconn): done here, on
        // the test's own thread, so that BlockHound does not see that one-time read on the contract's watched threads.
        provider.offers(query()).block(Duration.ofSeconds(30));
        fake.server.resetRequests();
    }

    @AfterEach
    void stopTheFake() {
        fake.close();
    }

    @Override
    protected ComputeProvider provider() {
        return provider;
    }

    @Override
    protected List<FaultScenario> faultScenarios() {
        return List.of(
                new FaultScenario("a refused API key is the operator's account", () -> {
                    fake.reset();
                    fake.server.stubFor(get(urlPathEqualTo("/v2/catalog/gpus")).atPriority(1)
                            .willReturn(RunpodFake.json(401, RunpodFake.fixture("error-401.json"))));
                }, () -> provider.offers(query()), ProviderFault.QuotaOrAuth.class),
                new FaultScenario("a rate limit with Retry-After is transient", () -> {
                    fake.reset();
                    fake.server.stubFor(get(urlPathEqualTo("/v2/catalog/gpus")).atPriority(1)
                            .willReturn(RunpodFake.json(429, RunpodFake.fixture("error-429.json")).withHeader("Retry-After", "30")));
                }, () -> provider.offers(query()), ProviderFault.Transient.class),
                new FaultScenario("a GPU RunPod cannot place at create has no capacity", () -> {
                    fake.reset();
                    fake.server.stubFor(post(urlPathEqualTo("/v2/pods")).atPriority(1)
                            .willReturn(RunpodFake.json(400, RunpodFake.fixture("error-400-placement.json"))));
                }, () -> provider.launch(request("job_no_room")), ProviderFault.NoCapacity.class),
                new FaultScenario("a create RunPod refuses as invalid is a provisioning failure", () -> {
                    fake.reset();
                    fake.server.stubFor(post(urlPathEqualTo("/v2/pods")).atPriority(1)
                            .willReturn(RunpodFake.json(422, RunpodFake.fixture("error-422.json"))));
                }, () -> provider.launch(request("job_invalid")), ProviderFault.ProvisioningFailed.class),
                new FaultScenario("a pod whose probe finds another GPU is lost, never billed", () -> {
                    fake.reset();
                    fake.lifecycle("RUNNING");
                    fake.logLines(RunpodFake.H100_PROBE.replace("H100 80GB HBM3, 81559", "A100-SXM4-40GB, 40960"));
                }, () -> provider.launch(request("job_wrong_gpu")).then(provider.status("job_wrong_gpu")),
                        ProviderFault.Interrupted.class),
                new FaultScenario("a pod that never becomes ready is terminated and lost", () -> {
                    fake.reset();
                    fake.lifecycle("STARTING");
                    fake.createdAt(Instant.now().minus(Duration.ofHours(1)));
                }, () -> provider.launch(request("job_never_ready")).then(provider.status("job_never_ready")),
                        ProviderFault.Interrupted.class),
                new FaultScenario("a pod RunPod puts in ERROR mid-run is lost", () -> {
                    fake.reset();
                    fake.lifecycle("RUNNING", "ERROR");
                }, () -> provider.launch(request("job_host_lost")).then(provider.status("job_host_lost"))
                        .then(provider.status("job_host_lost")),
                        ProviderFault.Interrupted.class));
    }

    private static LaunchRequest request(String jobId) {
        return new LaunchRequest(jobId, "hold_" + jobId, H100_SECURE, 1, List.of("sh", "-c", "echo " + MARKER), null,
                Map.of(), Duration.ofMinutes(10));
    }
}
