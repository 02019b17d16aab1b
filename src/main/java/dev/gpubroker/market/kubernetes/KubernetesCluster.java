package dev.gpubroker.market.kubernetes;

import java.io.File;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

import dev.gpubroker.market.ComputeProvider;
import dev.gpubroker.market.ProviderConfiguration;
import dev.gpubroker.market.ProviderSource;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.VersionInfo;

/**
 * A Kubernetes cluster as provider {@code kubernetes} (docs/providers/kubernetes.md), offered only when
 * {@code gpubroker.providers.kubernetes.enabled=true}, some GPU model has a price, and the cluster's API server answers
 * at start; otherwise one log line says why it is off.
 */
@Component
public class KubernetesCluster implements ProviderSource, DisposableBean {

    private static final Logger log = LoggerFactory.getLogger(KubernetesCluster.class);

    private static final String HOW_TO_ENABLE = "set gpubroker.providers.kubernetes.enabled=true, with a kubeconfig and"
            + " prices per GPU model (docs/providers/kubernetes.md)";

    private final List<ComputeProvider> providers;
    private final KubernetesClient client;
    private final ProviderConfiguration configuration;

    @Autowired
    public KubernetesCluster(KubernetesProperties properties, Clock clock) {
        this(properties, clock, KubernetesCluster::connect);
    }

    KubernetesCluster(KubernetesProperties properties, Clock clock,
            Function<KubernetesProperties, KubernetesClient> connect) {
        if (!properties.enabled()) {
            log.info("Provider kubernetes is off: {} to sell a cluster's GPUs", HOW_TO_ENABLE);
            this.providers = List.of();
            this.client = null;
            this.configuration = new ProviderConfiguration(KubernetesProvider.NAME, false, HOW_TO_ENABLE);
            return;
        }
        ClusterPrices prices = ClusterPrices.from(properties.prices());
        if (prices.models().isEmpty()) {
            log.warn("Provider kubernetes is off: gpubroker.providers.kubernetes.prices names no GPU model, so nothing"
                    + " could be sold (e.g. gpubroker.providers.kubernetes.prices.H100=2.50)");
            this.providers = List.of();
            this.client = null;
            this.configuration = new ProviderConfiguration(KubernetesProvider.NAME, false,
                    "enabled but no GPU model has a price: set gpubroker.providers.kubernetes.prices.<model>");
            return;
        }
        KubernetesClient connected;
        try {
            connected = connect.apply(properties);
        } catch (RuntimeException unreadable) {
            // A kubeconfig that is missing or unreadable: said once, without its contents (it holds credentials).
            log.warn("Provider kubernetes is off: no client could be made from {} ({})",
                    properties.kubeconfig().isBlank() ? "the usual kubeconfig lookup" : properties.kubeconfig(),
                    unreadable.getClass().getSimpleName());
            this.providers = List.of();
            this.client = null;
            this.configuration = new ProviderConfiguration(KubernetesProvider.NAME, false,
                    "enabled but no Kubernetes client could be made from its kubeconfig: see the log");
            return;
        }
        VersionInfo version;
        try {
            version = connected.getKubernetesVersion();
        } catch (RuntimeException unreachable) {
            log.warn("Provider kubernetes is off: the API server at {} did not answer at start ({})",
                    connected.getMasterUrl(), KubernetesFaults.faultOf("tell its version", unreachable).reason());
            connected.close();
            this.providers = List.of();
            this.client = null;
            this.configuration = new ProviderConfiguration(KubernetesProvider.NAME, false,
                    "enabled but the cluster's API server did not answer at start: see the log, then restart");
            return;
        }
        this.client = connected;
        this.providers = List.of(new KubernetesProvider(connected, properties, clock));
        this.configuration = new ProviderConfiguration(KubernetesProvider.NAME, true, "the cluster at "
                + connected.getMasterUrl() + ", jobs in namespace " + properties.namespace());
        log.info("Provider kubernetes is on: the cluster at {} (Kubernetes {}.{}), jobs in namespace {}{}, priced {}",
                connected.getMasterUrl(), version.getMajor(), version.getMinor(), properties.namespace(),
                properties.queue().isBlank() ? "" : " through Kueue queue " + properties.queue(), prices.models());
    }

    @Override
    public List<ComputeProvider> providers() {
        return providers;
    }

    @Override
    public List<ProviderConfiguration> configuration() {
        return List.of(configuration);
    }

    @Override
    public void destroy() {
        if (client != null) {
            client.close();
        }
    }

    /** fabric8's client for the kubeconfig named, or its usual lookup; no retries (the job engine polls again). */
    static KubernetesClient connect(KubernetesProperties properties) {
        Config base = properties.kubeconfig().isBlank() ? Config.autoConfigure(null)
                : Config.fromKubeconfig(new File(properties.kubeconfig()));
        return client(base, properties.requestTimeout());
    }

    /** A client of the cluster {@code base} points at, with the broker's timeouts and without the client's own retries. */
    static KubernetesClient client(Config base, Duration requestTimeout) {
        int timeoutMillis = Math.toIntExact(requestTimeout.toMillis());
        Config config = new ConfigBuilder(base)
                .withRequestTimeout(timeoutMillis)
                .withConnectionTimeout(timeoutMillis)
                .withRequestRetryBackoffLimit(0)
                .build();
        return new KubernetesClientBuilder().withConfig(config).build();
    }
}
