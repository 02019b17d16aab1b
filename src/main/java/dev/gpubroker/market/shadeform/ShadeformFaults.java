package dev.gpubroker.market.shadeform;

import java.util.Locale;
import java.util.Optional;

import dev.gpubroker.market.ProviderFault;
import dev.gpubroker.market.remote.ErrorReading;

/**
 * Shadeform's own errors read into {@link ProviderFault}s, before {@code RemoteApi}'s generic reading (401/403/402 the
 * operator's account, 429 and 5xx transient, other 4xx a refused request). Shadeform's OpenAPI document declares no
 * error body; its quickstart says only that a create may fail with "an error that implies that the selected instance
 * is out of capacity" and that the client should try the next instance type. So a refused create whose text speaks of
 * capacity or availability is {@link ProviderFault.NoCapacity} (another offer may have room).
 */
final class ShadeformFaults {

    private ShadeformFaults() {
    }

    /** For {@code POST /instances/create}. */
    static final ErrorReading CREATES = (status, message) -> {
        if (status < 400 || status >= 500 || status == 401 || status == 402 || status == 403 || status == 429) {
            return Optional.empty();
        }
        String text = message.toLowerCase(Locale.ROOT);
        if (text.contains("capacity") || text.contains("not available") || text.contains("unavailable")
                || text.contains("sold out")) {
            return Optional.of(new ProviderFault.NoCapacity("shadeform has no capacity for this instance type now (HTTP "
                    + status + ": " + message + "); another offer may have room"));
        }
        return Optional.empty();
    };
}
