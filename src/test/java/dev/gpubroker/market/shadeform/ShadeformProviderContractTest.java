package dev.gpubroker.market.shadeform;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

import dev.gpubroker.market.ComputeProvider;
import dev.gpubroker.market.LaunchRequest;
import dev.gpubroker.market.ProviderContract;
import dev.gpubroker.market.ProviderFault;

/**
 * Shadeform keeps the provider contract against a fake of its API, faults included; the job's output is read on its
 * (fake) VM over SSH, as the broker reads it at Shadeform.
 */
class ShadeformProviderContractTest extends ProviderContract {

    static final String H100_OFFER = "hyperstack:H100:canada-1";

    private ShadeformFake fake;
    private ShiftableClock clock;
    private ComputeProvider provider;

    @BeforeEach
    void aWellBehavedShadeform() {
        fake = new ShadeformFake();
        clock = new ShiftableClock();
        provider = fake.provider(ShadeformSettings.defaults(fake.baseUrl()), BigDecimal.ZERO, clock);
        // Netty reads system files once, in static initialisers (NetUtil: /proc/sys/net/core/somaxconn): a first call
        // on the test's own thread, so that BlockHound does not see that one-time read on the contract's threads.
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
                    fake.server.stubFor(get(urlPathEqualTo("/v1/instances/types")).atPriority(1)
                            .willReturn(ShadeformFake.json(401, "{\"error\": \"invalid api key\"}")));
                }, () -> provider.offers(query()), ProviderFault.QuotaOrAuth.class),
                new FaultScenario("a rate limit with Retry-After is transient", () -> {
                    fake.reset();
                    fake.server.stubFor(get(urlPathEqualTo("/v1/instances/types")).atPriority(1)
                            .willReturn(ShadeformFake.json(429, "Too Many Requests").withHeader("Retry-After", "30")));
                }, () -> provider.offers(query()), ProviderFault.Transient.class),
                new FaultScenario("an instance type out of capacity at create has no capacity", () -> {
                    fake.reset();
                    fake.server.stubFor(post(urlPathEqualTo("/v1/instances/create")).atPriority(1)
                            .willReturn(ShadeformFake.json(400, "H100 in canada-1 is out of capacity")));
                }, () -> provider.launch(request("job_no_room")), ProviderFault.NoCapacity.class),
                new FaultScenario("a create Shadeform refuses as invalid is a provisioning failure", () -> {
                    fake.reset();
                    fake.server.stubFor(post(urlPathEqualTo("/v1/instances/create")).atPriority(1)
                            .willReturn(ShadeformFake.json(400, "invalid region for shade_instance_type")));
                }, () -> provider.launch(request("job_invalid")), ProviderFault.ProvisioningFailed.class),
                new FaultScenario("an instance that never becomes active is deleted and lost, never billed", () -> {
                    fake.reset();
                    fake.lifecycle("pending_provider");
                }, () -> provider.launch(request("job_never_active"))
                        .then(provider.status("job_never_active"))
                        .then(reactor.core.publisher.Mono.fromRunnable(() -> clock.moveAhead(Duration.ofHours(1))))
                        .then(provider.status("job_never_active")),
                        ProviderFault.Interrupted.class),
                new FaultScenario("an instance the cloud fails while running is lost", () -> {
                    fake.reset();
                    fake.lifecycle("active", "error");
                }, () -> provider.launch(request("job_host_lost")).then(provider.status("job_host_lost")),
                        ProviderFault.Interrupted.class));
    }

    private static LaunchRequest request(String jobId) {
        return new LaunchRequest(jobId, "hold_" + jobId, H100_OFFER, 1, List.of("nvidia-smi"), null, Map.of(),
                Duration.ofMinutes(10));
    }
}
