package dev.gpubroker.market;

import java.util.Objects;

/**
 * Whether a provider is offered on this server, and what the operator can do about it: {@code detail} says where
 * its key came from (never the key), or how to enable it. For {@code account} and the admin API.
 */
public record ProviderConfiguration(String name, boolean enabled, String detail) {

    public ProviderConfiguration {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(detail, "detail");
    }
}
