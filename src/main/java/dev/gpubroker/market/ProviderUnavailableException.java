package dev.gpubroker.market;

/** The provider could not answer at all (API error, malformed answer, maintenance). Transient by nature. */
public class ProviderUnavailableException extends RuntimeException {

    public ProviderUnavailableException(String message) {
        super(message);
    }
}
