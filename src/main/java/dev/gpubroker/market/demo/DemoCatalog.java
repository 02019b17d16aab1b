package dev.gpubroker.market.demo;

import java.time.Duration;
import java.util.List;

import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The demo marketplace as described in YAML (src/main/resources/demo-marketplace.yml by default): fictional providers
 * with realistic prices, capacity, reliability, answer latency and failure behaviour.
 */
public record DemoCatalog(List<ProviderSpec> providers) {

    public DemoCatalog {
        providers = providers == null ? List.of() : List.copyOf(providers);
    }

    /**
     * One fictional provider. {@code hangProbability}: a quote request gets no answer at all;
     * {@code errorProbability}: the provider's API answers with an error; {@code holdRefusalProbability}: a listed
     * offer cannot be held (the market's "listed but not launchable" problem); {@code launchFailureProbability}: a launch
 * fails; {@code nodeLossProbability}: the node is lost {@code nodeLossAfter} into the run; {@code launchDelay}: how
     * long a node takes to come up before the job starts.
     */
    public record ProviderSpec(
            String name,
            String displayName,
            double reliability,
            @DefaultValue("50ms") Duration latencyMin,
            @DefaultValue("200ms") Duration latencyMax,
            @DefaultValue("0") double hangProbability,
            @DefaultValue("0") double errorProbability,
            @DefaultValue("0") double holdRefusalProbability,
            @DefaultValue("0") double launchFailureProbability,
            @DefaultValue("0") double nodeLossProbability,
            @DefaultValue("30s") Duration nodeLossAfter,
            @DefaultValue("0s") Duration launchDelay,
            List<OfferSpec> offers) {
    }

    public record OfferSpec(String id, String gpu, int vramGb, String region, String pricePerGpuHour, int capacity) {
    }
}
