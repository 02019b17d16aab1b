package dev.gpubroker.market.remote;

import java.util.Optional;

import dev.gpubroker.market.ProviderFault;

/**
 * A provider's own reading of an error answer, before the generic one ({@link RemoteApi}): e.g. RunPod's "no
 * instances available" is {@link ProviderFault.NoCapacity}, not a generic 400. Empty: read it the generic way.
 */
@FunctionalInterface
public interface ErrorReading {

    ErrorReading NONE = (status, message) -> Optional.empty();

    /** {@code message} is the provider's error text from the body (already trimmed and free of the key). */
    Optional<ProviderFault> read(int status, String message);
}
