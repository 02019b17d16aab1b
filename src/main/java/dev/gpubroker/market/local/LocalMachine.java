package dev.gpubroker.market.local;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

import dev.gpubroker.config.BrokerProperties;
import dev.gpubroker.market.ComputeProvider;
import dev.gpubroker.market.HostedCapacity;
import dev.gpubroker.market.ProviderSource;
import dev.gpubroker.market.process.JobSandbox;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * This host as a seller: provider {@code local}, with the GPUs nvidia-smi finds (docs/local-provider.md). With
 * {@code gpubroker.market.local.enabled=auto} (the default) it is offered when nvidia-smi is installed, and lists the
 * GPUs it finds (none: no offers); with {@code true} always; with {@code false} never (and nothing is asked of the host).
 * nvidia-smi is asked in the background once the server has started, so nothing waits for it and the first quote finds
 * its answer ready.
 */
@Component
public class LocalMachine implements ProviderSource {

    private static final Logger log = LoggerFactory.getLogger(LocalMachine.class);
    private static final Duration CONTAINER_PROBE_TIMEOUT = Duration.ofSeconds(10);

    private final Optional<LocalProvider> provider;

    @Autowired
    public LocalMachine(BrokerProperties properties, HostedCapacity capacity, JobSandbox sandbox, Clock clock) {
        this(properties.market().local(), new NvidiaSmi(NvidiaSmi.DEFAULT_EXECUTABLE, NvidiaSmi.DEFAULT_TIMEOUT),
                ContainerRuntime.onPath(System.getenv("PATH")), capacity,
                properties.dataDir().toAbsolutePath().normalize(), sandbox, clock);
    }

    LocalMachine(BrokerProperties.Local local, NvidiaSmi nvidiaSmi, List<ContainerRuntime> runtimesOnPath,
            HostedCapacity capacity, Path dataDir, JobSandbox sandbox, Clock clock) {
        LocalSettings settings = LocalSettings.from(local);
        if (local.enabled() == BrokerProperties.Local.Switch.OFF) {
            log.info("Provider local is off (gpubroker.market.local.enabled=false): this host's GPUs are not sold");
            this.provider = Optional.empty();
            return;
        }
        if (local.enabled() == BrokerProperties.Local.Switch.AUTO && !nvidiaSmi.isInstalled(System.getenv("PATH"))) {
            log.info("Provider local is off: {} is not installed here (gpubroker.market.local.enabled=auto)",
                    nvidiaSmi.executable());
            this.provider = Optional.empty();
            return;
        }
        // The providers are fixed at start, but nothing waits for nvidia-smi then: the provider asks it once the server
        // has started (or on a first use before that), and says what it found.
        Mono<LocalProvider.LocalHost> host = nvidiaSmi.discover()
                .flatMap(gpus -> (gpus.isEmpty() ? Mono.just(Optional.<ContainerRuntime>empty()) : firstWorking(runtimesOnPath))
                        .map(runtime -> new LocalProvider.LocalHost(LocalInventory.from(gpus), runtime)))
                .doOnNext(found -> describe(found, settings));
        this.provider = Optional.of(new LocalProvider(settings, host, capacity, dataDir, sandbox, clock));
        log.info("Provider local is on (gpubroker.market.local.enabled={}): this host's GPUs are found with {} once "
                + "the server has started", local.enabled() == BrokerProperties.Local.Switch.ON ? "true" : "auto",
                nvidiaSmi.executable());
    }

    /** Once the server is up, not before: nvidia-smi (seconds on some hosts) delays nothing at start. */
    @EventListener(ApplicationReadyEvent.class)
    public void lookAtHost() {
        provider.ifPresent(LocalProvider::lookAtHost);
    }

    private static void describe(LocalProvider.LocalHost host, LocalSettings settings) {
        if (host.inventory().isEmpty()) {
            log.warn("Provider local: nvidia-smi found no GPU this broker sells: it lists no offers");
            return;
        }
        log.info("Provider local sells this host's {} at {} USDC per GPU-hour; images run with {}", host.inventory(),
                settings.price().toDecimalString(), host.containerRuntime().map(ContainerRuntime::executable)
                        .orElse("nothing (no working docker or podman): jobs with an image are refused"));
    }

    @Override
    public List<ComputeProvider> providers() {
        return provider.<List<ComputeProvider>>map(List::of).orElse(List.of());
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
