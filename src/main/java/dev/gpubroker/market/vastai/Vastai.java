package dev.gpubroker.market.vastai;

import java.time.Clock;
import java.util.List;
import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import org.springframework.web.reactive.function.client.WebClient;

import dev.gpubroker.market.ComputeProvider;
import dev.gpubroker.market.ProviderConfiguration;
import dev.gpubroker.market.ProviderSource;
import dev.gpubroker.market.remote.ApiKey;
import dev.gpubroker.market.remote.ApiKeys;
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

    private static final Logger log = LoggerFactory.getLogger(Vastai.class);

    private final List<ComputeProvider> providers;
    private final ProviderConfiguration configuration;

    public Vastai(VastaiProperties settings, ApiKeys keys, ProviderPricing pricing, RemoteHttp http, Clock clock) {
        Optional<ApiKey> key = keys.find(VastaiProvider.NAME, KEY_VARIABLE);
        if (key.isEmpty()) {
            log.info("Provider vastai is off: no API key (set {} or write it to {})", KEY_VARIABLE,
                    keys.fileFor(VastaiProvider.NAME));
            this.providers = List.of();
            this.configuration = new ProviderConfiguration(VastaiProvider.NAME, false, "no API key: set " + KEY_VARIABLE
                    + " or write the key to " + keys.fileFor(VastaiProvider.NAME) + " (mode 600)");
            return;
        }
        this.providers = List.of(create(settings, key.get(), pricing, http.builder(), clock));
        this.configuration = new ProviderConfiguration(VastaiProvider.NAME, true, "API key from " + key.get().source()
                + "; API " + settings.baseUrl());
        log.info("Provider vastai is on (key from {}), API {}", key.get().source(), settings.baseUrl());
    }

    static VastaiProvider create(VastaiProperties settings, ApiKey key, ProviderPricing pricing,
            WebClient.Builder builder, Clock clock) {
        RemoteApi.Settings calls = new RemoteApi.Settings(settings.callTimeout(), RemoteApi.Settings.DEFAULT.retries(),
                RemoteApi.Settings.DEFAULT.firstBackoff(), RemoteApi.Settings.DEFAULT.maxRetryAfter());
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
