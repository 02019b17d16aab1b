package dev.gpubroker.market.runpod;

import java.time.Clock;
import java.util.List;

import org.springframework.stereotype.Component;

import dev.gpubroker.market.ComputeProvider;
import dev.gpubroker.market.ProviderConfiguration;
import dev.gpubroker.market.ProviderSource;
import dev.gpubroker.market.remote.ApiKey;
import dev.gpubroker.market.remote.ApiKeys;
import dev.gpubroker.market.remote.ProviderAccount;
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

    private final List<ComputeProvider> providers;
    private final ProviderConfiguration configuration;

    public RunpodProviders(ApiKeys keys, RunpodSettings settings, RemoteHttp http, ProviderPricing pricing, Clock clock) {
        ProviderAccount account = ProviderAccount.find(keys, RunpodProvider.NAME, KEY_VARIABLE, settings.baseUrl());
        this.configuration = account.configuration();
        this.providers = account.key().<List<ComputeProvider>>map(key -> List.of(
                create(settings, key, http, pricing, clock))).orElse(List.of());
    }

    static RunpodProvider create(RunpodSettings settings, ApiKey key, RemoteHttp http, ProviderPricing pricing, Clock clock) {
        RemoteApi.Settings calls = RemoteApi.Settings.withCallTimeout(settings.callTimeout());
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
