package dev.gpubroker.market.local;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

import dev.gpubroker.config.BrokerProperties;
import dev.gpubroker.market.ComputeProvider;
import dev.gpubroker.market.ProviderSource;
import dev.gpubroker.store.DemoCapacityRepository;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * This host as a seller: provider {@code local}, with the GPUs nvidia-smi finds (docs/local-provider.md). With
 * {@code gpubroker.market.local.enabled=auto} (the default) it is offered only when nvidia-smi lists at least one GPU,
 * with {@code true} always, with {@code false} never (and nothing is asked of the host).
 */
@Component
public class LocalMachine implements ProviderSource {

    private static final Logger log = LoggerFactory.getLogger(LocalMachine.class);
    private static final Duration CONTAINER_PROBE_TIMEOUT = Duration.ofSeconds(10);
    // Above the commands' own timeouts, which answer first: this bound only guards against a bug.
    private static final Duration STARTUP_WAIT_MAX = Duration.ofSeconds(30);

    private final List<ComputeProvider> providers;

    @Autowired
    public LocalMachine(BrokerProperties properties, DemoCapacityRepository capacity, Clock clock) {
        this(properties.market().local(), new NvidiaSmi(NvidiaSmi.DEFAULT_EXECUTABLE, NvidiaSmi.DEFAULT_TIMEOUT),
                ContainerRuntime.onPath(System.getenv("PATH")), capacity,
                properties.dataDir().toAbsolutePath().normalize(), clock);
    }

    LocalMachine(BrokerProperties.Local local, NvidiaSmi nvidiaSmi, List<ContainerRuntime> runtimesOnPath,
            DemoCapacityRepository capacity, Path dataDir, Clock clock) {
        LocalSettings settings = LocalSettings.from(local);
        if (local.enabled() == BrokerProperties.Local.Switch.OFF) {
            log.info("Provider local is off (gpubroker.market.local.enabled=false): this host's GPUs are not sold");
            this.providers = List.of();
            return;
        }
        // Which providers exist is fixed when the server starts (ProviderCatalog reads them once), so the answer of
        // nvidia-smi is needed before the first request: the one wait on a publisher outside main, bounded, at start.
        HostFindings host = nvidiaSmi.discover()
                .flatMap(gpus -> gpus.isEmpty() ? Mono.just(new HostFindings(gpus, Optional.empty()))
                        : firstWorking(runtimesOnPath).map(runtime -> new HostFindings(gpus, runtime)))
                .block(STARTUP_WAIT_MAX);
        LocalProvider provider = new LocalProvider(settings, host.gpus(), host.containerRuntime(), capacity, dataDir,
                clock);
        if (provider.inventory().isEmpty() && local.enabled() == BrokerProperties.Local.Switch.AUTO) {
            log.info("Provider local is off: nvidia-smi found no GPU this broker sells "
                    + "(gpubroker.market.local.enabled=auto)");
            this.providers = List.of();
            return;
        }
        if (provider.inventory().isEmpty()) {
            log.warn("Provider local is on (gpubroker.market.local.enabled=true) but nvidia-smi found no GPU this "
                    + "broker sells: it lists no offers");
        }
        log.info("Provider local sells this host's {} at {} USDC per GPU-hour; images run with {}", provider.inventory(),
                settings.price().toDecimalString(), host.containerRuntime().map(ContainerRuntime::executable)
                        .orElse("nothing (no working docker or podman): jobs with an image are refused"));
        this.providers = List.of(provider);
    }

    @Override
    public List<ComputeProvider> providers() {
        return providers;
    }

    private record HostFindings(List<DetectedGpu> gpus, Optional<ContainerRuntime> containerRuntime) {
    }

    /** The first runtime, in order of preference, that answers {@code info}: a client without its daemon is no use. */
    static Mono<Optional<ContainerRuntime>> firstWorking(List<ContainerRuntime> candidates) {
        return Flux.fromIterable(candidates)
                .concatMap(runtime -> ShortCommand.run(runtime.probeCommand(), CONTAINER_PROBE_TIMEOUT)
                        .map(result -> {
                            if (result.exitCode() != 0) {
                                log.info("{} is installed but cannot run containers now ({}): not used",
                                        runtime.executable(), result.firstLine());
                            }
                            return result.exitCode() == 0;
                        })
                        .onErrorResume(error -> {
                            log.info("{} did not answer 'info' ({}): not used", runtime.executable(), error.toString());
                            return Mono.just(false);
                        })
                        .filter(Boolean::booleanValue)
                        .map(working -> runtime))
                .next()
                .map(Optional::of)
                .defaultIfEmpty(Optional.empty());
    }
}
