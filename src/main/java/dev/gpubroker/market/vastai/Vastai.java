package dev.gpubroker.market.vastai;

import java.time.Clock;
import java.util.List;

import org.springframework.stereotype.Component;
import org.springframework.web.reactive.function.client.WebClient;

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
 * Provider {@code vastai} (docs/providers/vastai.md): on when an API key is found in {@code VAST_API_KEY} or
 * {@code <data>/providers/vastai.key}, else simply not offered.
 */
@Component
public class Vastai implements ProviderSource {

    static final String KEY_VARIABLE = "VAST_API_KEY";

    private final List<ComputeProvider> providers;
    private final ProviderConfiguration configuration;

    public Vastai(VastaiProperties settings, ApiKeys keys, ProviderPricing pricing, RemoteHttp http, Clock clock) {
        ProviderAccount account = ProviderAccount.find(keys, VastaiProvider.NAME, KEY_VARIABLE, settings.baseUrl());
        this.configuration = account.configuration();
        this.providers = account.key().<List<ComputeProvider>>map(key -> List.of(
                create(settings, key, pricing, http.builder(), clock))).orElse(List.of());
    }

    static VastaiProvider create(VastaiProperties settings, ApiKey key, ProviderPricing pricing,
            WebClient.Builder builder, Clock clock) {
        RemoteApi.Settings calls = RemoteApi.Settings.withCallTimeout(settings.callTimeout());
        return create(settings, key, pricing, builder, clock, calls);
    }

    static VastaiProvider create(VastaiProperties settings, ApiKey key, ProviderPricing pricing,
            WebClient.Builder builder, Clock clock, RemoteApi.Settings calls) {
        RemoteApi api = new RemoteApi(VastaiProvider.NAME, builder, settings.baseUrl(), key, RemoteApi.KeyHeader.BEARER,
                calls, new VastaiErrors());
        // The log files live elsewhere (S3) and are fetched without the key, as Vast's own CLI does.
        WebClient logDownloads = builder.clone()
                .codecs(codecs -> codecs.defaultCodecs().maxInMemorySize(8 * 1024 * 1024))
                .build();
        return new VastaiProvider(settings, api, logDownloads, pricing, clock);
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
