package dev.gpubroker.market.vastai;

import java.util.Locale;
import java.util.Optional;

import dev.gpubroker.market.ProviderFault;
import dev.gpubroker.market.remote.ErrorReading;

/**
 * Vast.ai's own error answers, read before the generic reading (one place): an offer that is gone
 * ({@code no_such_ask}, 404/410) is no capacity; "Invalid user key" (which Vast sends with 404 or 401) and
 * "insufficient credit" are the operator's account. Its 429 ("API requests too frequent") carries no Retry-After:
 * the generic reading makes it transient and the safe calls back off by themselves.
 */
final class VastaiErrors implements ErrorReading {

    @Override
    public Optional<ProviderFault> read(int status, String message) {
        String lower = message.toLowerCase(Locale.ROOT);
        if (lower.contains("invalid user key") || lower.contains("insufficient credit")
               
                || lower.contains("insufficient funds")) {
            return Optional.of(new ProviderFault.QuotaOrAuth(VastaiProvider.NAME + " answered HTTP " + status + ": "
                    + message + " (the operator's API key or credit)"));
        }
        if (status == 410 || lower.contains("no_such_ask") || lower.contains("no longer available")
                || lower.contains("is not available")) {
            return Optional.of(new ProviderFault.NoCapacity(VastaiProvider.NAME + " answered HTTP " + status + ": "
                    + message));
        }
        return Optional.empty();
    }

    /** A 200 answer with {@code success: false}: read like an error answer. */
    static ProviderFault refusal(String message) {
        return new VastaiErrors().read(200, message)
                .orElseGet(() -> new ProviderFault.ProvisioningFailed(VastaiProvider.NAME + " refused the launch: " + message));
    }
}
