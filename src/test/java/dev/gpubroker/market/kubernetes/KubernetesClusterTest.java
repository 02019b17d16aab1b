package dev.gpubroker.market.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

import dev.gpubroker.market.ComputeProvider;
import io.fabric8.kubernetes.client.ConfigBuilder;

/** When the provider is offered: enabled, priced, and the cluster answering at start. */
class KubernetesClusterTest {

    @Test
    void theSettingsDefaultToOffAndReadPricesByModelWhateverTheKeysCase() {
        KubernetesProperties defaults = bind(Map.of());
        assertThat(defaults.enabled()).isFalse();
        assertThat(defaults.namespace()).isEqualTo("gpubroker-jobs");
        assertThat(defaults.region()).isEqualTo("cluster");
        assertThat(defaults.reliability()).isEqualTo(0.98);
        assertThat(defaults.queue()).isEmpty();

        KubernetesProperties priced = bind(Map.of("gpubroker.providers.kubernetes.prices.H100", "2.50",
                "gpubroker.providers.kubernetes.prices.a100-80gb", "1.10",
                "gpubroker.providers.kubernetes.prices[RTX4090]", "0.40"));
        ClusterPrices prices = ClusterPrices.from(priced.prices());
        assertThat(prices.models()).containsExactly("H100", "A100-80GB", "RTX4090");
        assertThat(prices.of("A100-80GB")).hasValueSatisfying(price -> assertThat(price.microsPerGpuHour()).isEqualTo(1_100_000));
    }

    @Test
    void aClusterNotEnabledIsNotOfferedAndNotAsked() {
        KubernetesCluster cluster = new KubernetesCluster(bind(Map.of()), Clock.systemUTC(), properties -> {
            throw new AssertionError("a provider that is off asks no cluster");
        });

        assertThat(cluster.providers()).isEmpty();
        assertThat(cluster.configuration()).singleElement().satisfies(configuration -> {
            assertThat(configuration.name()).isEqualTo("kubernetes");
            assertThat(configuration.enabled()).isFalse();
            assertThat(configuration.detail()).contains("gpubroker.providers.kubernetes.enabled=true");
        });
    }

    @Test
    void aClusterWhoseApiServerDoesNotAnswerAtStartIsNotOffered() {
        KubernetesCluster cluster = new KubernetesCluster(enabled(), Clock.systemUTC(), properties -> KubernetesCluster
                .client(new ConfigBuilder().withMasterUrl("http://127.0.0.1:1").build(), Duration.ofSeconds(2)));

        assertThat(cluster.providers()).isEmpty();
    }

    @Test
    void aKubeconfigThatCannotBeReadLeavesTheProviderOff() {
        KubernetesProperties missing = new KubernetesProperties(true, "/nonexistent/kubeconfig", "gpubroker-jobs", "",
                Map.of("H100", new BigDecimal("2.50")), "cluster", 0.98, "nvidia/cuda:12.4.1-base-ubuntu22.04",
                Duration.ofMinutes(5), Duration.ofHours(24), Duration.ofSeconds(2), Duration.ZERO);

        assertThat(new KubernetesCluster(missing, Clock.systemUTC()).providers()).isEmpty();
    }

    @Test
    void anEnabledPricedReachableClusterIsOfferedAsKubernetes() {
        try (ClusterFake fake = new ClusterFake()) {
            KubernetesCluster cluster = new KubernetesCluster(enabled(), Clock.systemUTC(), properties -> fake.client());

            assertThat(cluster.providers()).extracting(ComputeProvider::name).containsExactly("kubernetes");
            assertThat(cluster.configuration()).singleElement()
                    .satisfies(configuration -> assertThat(configuration.enabled()).isTrue());
        }
    }

    private static KubernetesProperties enabled() {
        return new KubernetesProperties(true, "", "gpubroker-jobs", "", Map.of("H100", new BigDecimal("2.50")), "cluster",
                0.98, "nvidia/cuda:12.4.1-base-ubuntu22.04", Duration.ofMinutes(5), Duration.ofHours(24),
                Duration.ofSeconds(2), Duration.ZERO);
    }

    private static KubernetesProperties bind(Map<String, String> settings) {
        return new Binder(new MapConfigurationPropertySource(settings))
                .bindOrCreate("gpubroker.providers.kubernetes", KubernetesProperties.class);
    }
}
