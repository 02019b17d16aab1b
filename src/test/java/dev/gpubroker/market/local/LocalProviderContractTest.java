package dev.gpubroker.market.local;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

import dev.gpubroker.market.ComputeProvider;
import dev.gpubroker.market.HoldRequest;
import dev.gpubroker.market.LaunchRequest;
import dev.gpubroker.market.ProviderContract;
import dev.gpubroker.market.ProviderFault;
import dev.gpubroker.market.ProviderTestDatabase;
import dev.gpubroker.market.process.JobSandbox;
import dev.gpubroker.money.PricePerGpuHour;

/**
 * This host's provider keeps the provider contract, on two GPUs as nvidia-smi would list them (the jobs run for real,
 * in the job sandbox; no GPU is needed to run them).
 */
class LocalProviderContractTest extends ProviderContract {

    private static final List<DetectedGpu> TWO_H100 = NvidiaSmi.parse(List.of(
            "0, NVIDIA H100 80GB HBM3, 81559",
            "1, NVIDIA H100 80GB HBM3, 81559"));

    @TempDir
    Path dir;

    private LocalProvider provider;

    @BeforeEach
    void thisHost() {
        provider = new LocalProvider(new LocalSettings(PricePerGpuHour.parse("2.00"), "local", 0.99), TWO_H100,
                Optional.empty(), ProviderTestDatabase.capacity(dir), dir,
                JobSandbox.probe(dir.resolve("jobs"), JobSandbox.Settings.DEFAULT), Clock.systemUTC());
    }

    @Override
    protected ComputeProvider provider() {
        return provider;
    }

    @Override
    protected List<FaultScenario> faultScenarios() {
        String offerId = firstFitting().offerId();
        return List.of(
                new FaultScenario("more GPUs than this host has is no capacity", () -> { },
                        () -> provider.holds().hold(new HoldRequest("hold_three", offerId, 3, Instant.now().plusSeconds(60),
                                PricePerGpuHour.parse("2.00"))), ProviderFault.NoCapacity.class),
                new FaultScenario("more GPUs than are free at launch is no capacity", () -> { },
                        () -> provider.launch(new LaunchRequest("job_three_gpus", "hold_none", offerId, 3,
                                List.of("true"), null, Map.of(), Duration.ofMinutes(1))),
                        ProviderFault.NoCapacity.class),
                new FaultScenario("an image on a host without a container runtime fails provisioning", () -> { },
                        () -> provider.launch(new LaunchRequest("job_image", "hold_none", offerId, 1,
                                List.of("nvidia-smi"), "nvidia/cuda:12.4.1-base-ubuntu22.04", Map.of(),
                                Duration.ofMinutes(1))),
                        ProviderFault.ProvisioningFailed.class));
    }
}
