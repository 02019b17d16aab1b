package dev.gpubroker.market.runpod;

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
import dev.gpubroker.market.remote.ProviderPricing;
import dev.gpubroker.market.remote.RemoteApi;
import dev.gpubroker.market.remote.RemoteProvidersConfiguration.RemoteHttp;

/**
 * Provider {@code runpod}, offered when the operator has a RunPod API key ({@value #KEY_VARIABLE}, or the file
 * {@code <data>/providers/runpod.key}); without one it is simply not offered.
 */
@Component
public class RunpodProviders implements ProviderSource {

    static final String KEY_VARIABLE = "RUNPOD_API_KEY";

    private static final Logger log = LoggerFactory.getLogger(RunpodProviders.class);

    private final List<ComputeProvider> providers;
    private final ProviderConfiguration configuration;

    public RunpodProviders(ApiKeys keys, RunpodSettings settings, RemoteHttp http, ProviderPricing pricing, Clock clock) {
        Optional<ApiKey> key = keys.find(RunpodProvider.NAME, KEY_VARIABLE);
        if (key.isEmpty()) {
            log.info("Provider runpod is off: no API key (set {} or write it to {})", KEY_VARIABLE,
                    keys.fileFor(RunpodProvider.NAME));
            this.providers = List.of();
            this.configuration = new ProviderConfiguration(RunpodProvider.NAME, false, "no API key: set " + KEY_VARIABLE
                    + " or write the key to " + keys.fileFor(RunpodProvider.NAME) + " (mode 600)");
            return;
        }
        this.providers = List.of(create(settings, key.get(), http, pricing, clock));
        this.configuration = new ProviderConfiguration(RunpodProvider.NAME, true, "API key from " + key.get().source()
                + "; API " + settings.baseUrl());
        log.info("Provider runpod is on (key from {}), API {}", key.get().source(), settings.baseUrl());
    }

    static RunpodProvider create(RunpodSettings settings, ApiKey key, RemoteHttp http, ProviderPricing pricing, Clock clock) {
        RemoteApi.Settings calls = new RemoteApi.Settings(settings.callTimeout(), RemoteApi.Settings.DEFAULT.retries(),
                RemoteApi.Settings.DEFAULT.firstBackoff(), RemoteApi.Settings.DEFAULT.maxRetryAfter());
        RemoteApi api = new RemoteApi(RunpodProvider.NAME, http.builder(), settings.baseUrl(), key,
                RemoteApi.KeyHeader.BEARER, calls, dev.gpubroker.market.remote.ErrorReading.NONE);
        RemoteApi creates = new RemoteApi(RunpodProvider.NAME, http.builder(), settings.baseUrl(), key,
                RemoteApi.KeyHeader.BEARER, calls, RunpodFaults.CREATES);
        RunpodLogStream logs = new RunpodLogStream(http.builder(), settings.baseUrl(), key, settings.callTimeout());
        return new RunpodProvider(settings, api, creates, logs, pricing, clock);
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
