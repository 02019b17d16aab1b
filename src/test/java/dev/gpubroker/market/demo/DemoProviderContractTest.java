package dev.gpubroker.market.demo;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

import dev.gpubroker.market.ComputeProvider;
import dev.gpubroker.market.HoldRequest;
import dev.gpubroker.market.HostedCapacity;
import dev.gpubroker.market.JobStatus;
import dev.gpubroker.market.LaunchRequest;
import dev.gpubroker.market.ProviderContract;
import dev.gpubroker.market.ProviderFault;
import dev.gpubroker.market.ProviderTestDatabase;
import dev.gpubroker.market.process.JobSandbox;
import dev.gpubroker.money.PricePerGpuHour;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** The demo marketplace's providers keep the provider contract, faults included (each fault at probability 1). */
class DemoProviderContractTest extends ProviderContract {

    private static final DemoProviderSettings.DemoOffer OFFER = new DemoProviderSettings.DemoOffer("demo-a100-1",
            "A100-80GB", 80, "us-east", PricePerGpuHour.parse("1.20"), 2);

    @TempDir
    Path dir;

    private HostedCapacity capacity;
    private ComputeProvider provider;

    @BeforeEach
    void aWellBehavedProvider() {
        capacity = ProviderTestDatabase.capacity(dir);
        provider = demo(0, 0, 0, 0);
    }

    @Override
    protected ComputeProvider provider() {
        return provider;
    }

    @Override
    protected List<FaultScenario> faultScenarios() {
        return List.of(
                new FaultScenario("an API outage is transient", () -> provider = demo(1, 0, 0, 0),
                        () -> provider.offers(query()), ProviderFault.Transient.class),
                new FaultScenario("a full offer has no capacity", () -> provider = demo(0, 0, 0, 0),
                        () -> provider.holds().hold(new HoldRequest("hold_big", OFFER.offerId(), 3,
                                Instant.now().plusSeconds(60), OFFER.price())), ProviderFault.NoCapacity.class),
                new FaultScenario("a launch that fails is a provisioning failure", () -> provider = demo(0, 1, 0, 0),
                        () -> provider.launch(sleeper("job_launch_fails")), ProviderFault.ProvisioningFailed.class),
                new FaultScenario("a node lost mid-run interrupts the job", () -> provider = demo(0, 0, 1, 0),
                        () -> provider.launch(sleeper("job_node_lost")).then(endOf("job_node_lost")),
                        ProviderFault.Interrupted.class));
    }

    private Mono<JobStatus> endOf(String jobId) {
        return Flux.interval(Duration.ofMillis(200)).concatMap(tick -> provider.status(jobId))
                .filter(JobStatus.Ended.class::isInstance).next().timeout(Duration.ofSeconds(30));
    }

    private static LaunchRequest sleeper(String jobId) {
        return new LaunchRequest(jobId, "hold_" + jobId, OFFER.offerId(), 1, List.of("sleep", "30"), null, Map.of(),
                Duration.ofMinutes(1));
    }

    private DemoProvider demo(double errorProbability, double launchFailureProbability, double nodeLossProbability,
            double hangProbability) {
        DemoProviderSettings settings = new DemoProviderSettings("demo-contract", "Demo contract", 0.97,
                Duration.ofMillis(20), Duration.ofMillis(40), hangProbability, errorProbability, 0,
                launchFailureProbability, nodeLossProbability, Duration.ofMillis(500), Duration.ZERO, List.of(OFFER));
        return new DemoProvider(settings, capacity, dir.resolve("jobs"),
                JobSandbox.probe(dir.resolve("jobs"), JobSandbox.Settings.DEFAULT), Clock.systemUTC());
    }
}
