package dev.gpubroker.market.remote;

import java.util.Objects;

/**
 * An operator's API key for one provider, and where it came from (an environment variable or a file in the data
 * directory). It is sent only in the provider's auth header: never logged, returned, stored in the database or
 * printed by {@link #toString()}.
 */
public record ApiKey(String value, String source) {

    public ApiKey {
        Objects.requireNonNull(value, "value");
        Objects.requireNonNull(source, "source");
        if (value.isBlank()) {
            throw new IllegalArgumentException("an API key is not blank");
        }
    }

    @Override
    public String toString() {
        return "ApiKey[from " + source + "]";
    }
}
