package dev.gpubroker.market.remote;

import java.math.BigDecimal;
import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * What real providers share ({@code gpubroker.providers.*}; each provider's own settings are under
 * {@code gpubroker.providers.<name>}). {@code markupPercent}: added to every real provider's price before agents see
 * it. {@code connectTimeout}: for each provider API connection. {@code callsPerMinute}: the most calls this instance
 * makes to one provider's API with one key in a minute ({@link KeyRateLimits}); a provider's own lower limit is
 * honoured through its 429 answers and {@code Retry-After}.
 */
@ConfigurationProperties("gpubroker.providers")
public record RemoteProvidersProperties(
        @DefaultValue("0") BigDecimal markupPercent,
        @DefaultValue("5s") Duration connectTimeout,
        @DefaultValue("120") int callsPerMinute) {
}
