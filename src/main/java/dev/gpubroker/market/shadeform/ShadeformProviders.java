package dev.gpubroker.market.shadeform;

import java.time.Clock;
import java.util.List;
import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

import dev.gpubroker.market.ComputeProvider;
import dev.gpubroker.market.ProviderConfiguration;
import dev.gpubroker.market.ProviderSource;
import dev.gpubroker.market.remote.ApiKey;
import dev.gpubroker.market.remote.ApiKeys;
import dev.gpubroker.market.remote.ErrorReading;
import dev.gpubroker.market.remote.ProviderPricing;
import dev.gpubroker.market.remote.RemoteApi;
import dev.gpubroker.market.remote.RemoteProvidersConfiguration.RemoteHttp;

/**
 * Provider {@code shadeform}, offered when the operator has a Shadeform API key ({@value #KEY_VARIABLE}, or the file
 * {@code <data>/providers/shadeform.key}); without one it is simply not offered.
 */
@Component
public class ShadeformProviders implements ProviderSource {

    static final String KEY_VARIABLE = "SHADEFORM_API_KEY";

    private static final Logger log = LoggerFactory.getLogger(ShadeformProviders.class);

    private final List<ComputeProvider> providers;
    private final ProviderConfiguration configuration;

    public ShadeformProviders(ApiKeys keys, ShadeformSettings settings, RemoteHttp http, ProviderPricing pricing,
            Clock clock) {
        Optional<ApiKey> key = keys.find(ShadeformProvider.NAME, KEY_VARIABLE);
        if (key.isEmpty()) {
            String enable = "set " + KEY_VARIABLE + " or put the key in " + keys.fileFor(ShadeformProvider.NAME);
            log.info("Provider shadeform is off: no API key ({})", enable);
            this.providers = List.of();
            this.configuration = new ProviderConfiguration(ShadeformProvider.NAME, false, enable);
            return;
        }
        this.providers = List.of(create(settings, key.get(), http, pricing, clock));
        this.configuration = new ProviderConfiguration(ShadeformProvider.NAME, true, "key from " + key.get().source());
        log.info("Provider shadeform is on (key from {}), API {}", key.get().source(), settings.baseUrl());
    }

    static ShadeformProvider create(ShadeformSettings settings, ApiKey key, RemoteHttp http, ProviderPricing pricing,
            Clock clock) {
        RemoteApi.Settings calls = new RemoteApi.Settings(settings.callTimeout(), RemoteApi.Settings.DEFAULT.retries(),
                RemoteApi.Settings.DEFAULT.firstBackoff(), RemoteApi.Settings.DEFAULT.maxRetryAfter());
        RemoteApi api = new RemoteApi(ShadeformProvider.NAME, http.builder(), settings.baseUrl(), key,
                RemoteApi.KeyHeader.X_API_KEY, calls, ErrorReading.NONE);
        RemoteApi creates = new RemoteApi(ShadeformProvider.NAME, http.builder(), settings.baseUrl(), key,
                RemoteApi.KeyHeader.X_API_KEY, calls, ShadeformFaults.CREATES);
        return new ShadeformProvider(settings, api, creates, pricing, clock);
    }

    @Override
    public List<ComputeProvider> providers() {
        return providers;
    }

    @Override
    public List<ProviderConfiguration> configuration() {
        return List.of(configuration);
    }
}
