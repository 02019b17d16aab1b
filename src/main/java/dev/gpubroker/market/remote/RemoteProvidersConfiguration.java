package dev.gpubroker.market.remote;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.client.reactive.ReactorClientHttpConnector;
import org.springframework.web.reactive.function.client.WebClient;

import dev.gpubroker.config.BrokerProperties;
import io.netty.channel.ChannelOption;
import reactor.netty.http.client.HttpClient;

/** The parts every real provider's package uses: its key, the operator's markup, and a non-blocking HTTP client. */
@Configuration(proxyBeanMethods = false)
public class RemoteProvidersConfiguration {

    @Bean
    ApiKeys providerApiKeys(BrokerProperties properties) {
        return new ApiKeys(System.getenv(), properties.dataDir());
    }

    @Bean
    ProviderPricing providerPricing(RemoteProvidersProperties properties) {
        return new ProviderPricing(properties.markupPercent());
    }

    /** A builder each provider clones for its own base URL and key (RemoteApi). */
    @Bean
    RemoteHttp remoteProviderHttp(RemoteProvidersProperties properties) {
        HttpClient http = HttpClient.create()
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, Math.toIntExact(properties.connectTimeout().toMillis()))
                .followRedirect(false);
        return new RemoteHttp(WebClient.builder().clientConnector(new ReactorClientHttpConnector(http))
                .filter(new KeyRateLimits(properties.callsPerMinute())));
    }

    /** The shared client builder, under a type of its own so that nothing else mistakes it for a general one. */
    public record RemoteHttp(WebClient.Builder builder) {
    }
}
