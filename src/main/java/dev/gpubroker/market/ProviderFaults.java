package dev.gpubroker.market;

import dev.gpubroker.metrics.ProviderMetrics;
import dev.gpubroker.platform.faults.Faults;

/** What kind of failure a provider call ended in, told once for quotes and jobs alike (for the operator's metrics). */
public final class ProviderFaults {

    private ProviderFaults() {
    }

    /**
     * No answer within the call's timeout; the provider cannot answer now (it said so, or could not be reached);
     * anything else is an error the broker did not expect. The reading of the failure is {@link Faults}'.
     */
    public static ProviderMetrics.Kind kindOf(Throwable error) {
        return switch (Faults.classify(error)) {
            case TIMEOUT -> ProviderMetrics.Kind.TIMEOUT;
            case UNAVAILABLE, UNREACHABLE -> ProviderMetrics.Kind.UNAVAILABLE;
            case ALREADY_KNOWN, NONCE_USED, INSUFFICIENT_FUNDS, REVERTED, REFUSED, UNEXPECTED -> ProviderMetrics.Kind.ERROR;
        };
    }
}
