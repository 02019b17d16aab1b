package dev.gpubroker.metrics;

import java.time.Duration;
import java.util.Locale;

import org.springframework.stereotype.Component;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * How the providers answer: the latency of each provider's answer to a quote request
 * ({@code gpubroker_provider_quote_duration_seconds}, answers only), and every failure by provider, operation and kind
 * ({@code gpubroker_provider_failures_total}). Providers are named by the catalog, never by a caller, so the tags stay
 * few.
 */
@Component
public class ProviderMetrics {

    static final String QUOTE_DURATION = "gpubroker.provider.quote.duration";
    static final String FAILURES = "gpubroker.provider.failures";
    /** Buckets up to past the default provider timeout (3 s): enough to alert on a slow provider, and few series. */
    private static final Duration[] QUOTE_BUCKETS = {Duration.ofMillis(50), Duration.ofMillis(100),
            Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(2),
            Duration.ofSeconds(3), Duration.ofSeconds(5)};

    /** What the broker asked the provider for when it failed. */
    public enum Operation {
        QUOTE, LAUNCH, STATUS;

        String tag() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * How it failed: no answer in time; the provider said it cannot (its API is down, an outage); an error the broker
     * did not expect; a launch the provider refused; a running job the provider lost.
     */
    public enum Kind {
        TIMEOUT, UNAVAILABLE, ERROR, REFUSED, LOST;

        String tag() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final MeterRegistry registry;

    public ProviderMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /** A provider answered a quote request (with offers or none) after {@code elapsed}. */
    public void quoteAnswered(String provider, Duration elapsed) {
        Timer.builder(QUOTE_DURATION)
                .description("How long a provider took to answer a quote request (answers only; failures are counted "
                        + "in gpubroker_provider_failures_total)")
                .tag("provider", provider)
                .serviceLevelObjectives(QUOTE_BUCKETS)
                .register(registry)
                .record(elapsed);
    }

    public void failed(String provider, Operation operation, Kind kind) {
        Counter.builder(FAILURES)
                .description("Provider calls that failed, by provider, operation and kind")
                .tag("provider", provider)
                .tag("operation", operation.tag())
                .tag("kind", kind.tag())
                .register(registry)
                .increment();
    }
}
