package dev.gpubroker.market.kubernetes;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.Map;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The Kubernetes provider ({@code gpubroker.providers.kubernetes.*}, docs/providers/kubernetes.md): a cluster's GPU
 * nodes sold by their owner at the owner's prices.
 * <ul>
 * <li>{@code enabled}: off unless set; then the cluster must answer at start, or the provider is not offered;</li>
 * <li>{@code kubeconfig}: a kubeconfig file; empty for fabric8's own lookup (KUBECONFIG, ~/.kube/config, in-cluster);</li>
 * <li>{@code namespace}: where the jobs run; {@code queue}: a Kueue LocalQueue in it, or empty for none;</li>
 * <li>{@code prices}: USDC per GPU-hour by GPU model (H100, A100-80GB, ...): a model without one is not offered. They
 *     are the operator's own prices: the markup of {@code gpubroker.providers.markup-percent} does not apply;</li>
 * <li>{@code region} and {@code reliability}: what the offers say;</li>
 * <li>{@code defaultImage}: for jobs without an image; {@code imagePullTimeout}: how long a pod may fail to pull its
 *     image before the job is given up; {@code finishedJobTtl}: how long the cluster keeps an ended Job (the broker
 *     reads its end long before); {@code requestTimeout}: for each call to the API server; {@code offerTtl}: how long
 *     the broker's offer cache serves the cluster's offers (each refresh lists every node and pod).</li>
 * </ul>
 */
@ConfigurationProperties("gpubroker.providers.kubernetes")
public record KubernetesProperties(
        @DefaultValue("false") boolean enabled,
        @DefaultValue("") String kubeconfig,
        @DefaultValue("gpubroker-jobs") String namespace,
        @DefaultValue("") String queue,
        Map<String, BigDecimal> prices,
        @DefaultValue("cluster") String region,
        @DefaultValue("0.98") double reliability,
        @DefaultValue("nvidia/cuda:12.4.1-base-ubuntu22.04") String defaultImage,
        @DefaultValue("5m") Duration imagePullTimeout,
        @DefaultValue("24h") Duration finishedJobTtl,
        @DefaultValue("10s") Duration requestTimeout,
        @DefaultValue("5s") Duration offerTtl) {

    public KubernetesProperties {
        prices = prices == null ? Map.of() : Map.copyOf(prices);
        if (!(reliability >= 0.0 && reliability <= 1.0)) {
            throw new IllegalStateException("gpubroker.providers.kubernetes.reliability is in [0, 1], got " + reliability);
        }
        if (namespace.isBlank()) {
            throw new IllegalStateException("gpubroker.providers.kubernetes.namespace is not blank");
        }
    }
}
