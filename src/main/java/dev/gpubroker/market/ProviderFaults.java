package dev.gpubroker.market;

import java.util.concurrent.TimeoutException;

import dev.gpubroker.metrics.ProviderMetrics;

/** What kind of failure a provider call ended in, told once for quotes and jobs alike (for the operator's metrics). */
public final class ProviderFaults {

    private ProviderFaults() {
    }

    /**
     * No answer within the call's timeout; the provider said it cannot ({@link ProviderUnavailableException}); anything
     * else is an error the broker did not expect.
     */
    public static ProviderMetrics.Kind kindOf(Throwable error) {
        if (error instanceof TimeoutException) {
            return ProviderMetrics.Kind.TIMEOUT;
        }
        if (error instanceof ProviderUnavailableException) {
            return ProviderMetrics.Kind.UNAVAILABLE;
        }
        return ProviderMetrics.Kind.ERROR;
    }
}
