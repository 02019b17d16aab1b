package dev.gpubroker.market;

import java.util.List;

/** A family of providers configured together (the demo marketplace, this host, a marketplace API). */
public interface ProviderSource {

    List<ComputeProvider> providers();

    /**
     * What this source offers and, for a provider it could offer but does not (no key, not enabled), how to enable
     * it. By default each of its providers, enabled.
     */
    default List<ProviderConfiguration> configuration() {
        return providers().stream().map(provider -> new ProviderConfiguration(provider.name(), true, "")).toList();
    }
}
