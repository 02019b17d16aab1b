package dev.gpubroker.market.remote;

import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.gpubroker.market.ProviderConfiguration;

/**
 * The operator's account at one real provider as this server finds it at start: its key, or none (the provider is
 * then simply not offered), and what {@code account}, the admin API and the log say about it (where the key came
 * from, or how to turn the provider on; never the key).
 */
public record ProviderAccount(Optional<ApiKey> key, ProviderConfiguration configuration) {

    private static final Logger log = LoggerFactory.getLogger(ProviderAccount.class);

    public static ProviderAccount find(ApiKeys keys, String provider, String keyVariable, String baseUrl) {
        Optional<ApiKey> key = keys.find(provider, keyVariable);
        if (key.isEmpty()) {
            String enable = "set " + keyVariable + " or put the key in " + keys.fileFor(provider);
            log.info("Provider {} is off: no API key ({}; the file readable by the server's user only)", provider, enable);
            return new ProviderAccount(key, new ProviderConfiguration(provider, false, enable));
        }
        String detail = "API key from " + key.get().source() + "; API " + baseUrl;
        log.info("Provider {} is on: {}", provider, detail);
        return new ProviderAccount(key, new ProviderConfiguration(provider, true, detail));
    }
}
