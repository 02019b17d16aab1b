package dev.gpubroker.market;

import java.util.Objects;

import dev.gpubroker.platform.faults.ClassifiedFault;
import dev.gpubroker.platform.faults.Fault;

/**
 * A provider call that failed, with the {@link ProviderFault} that says what kind of failure it was. The message is
 * the fault's reason, which must never carry a credential.
 */
public class ProviderUnavailableException extends RuntimeException implements ClassifiedFault {

    private final ProviderFault providerFault;

    /** The provider could not answer at all (API error, malformed answer, maintenance): transient. */
    public ProviderUnavailableException(String message) {
        this(new ProviderFault.Transient(message));
    }

    public ProviderUnavailableException(ProviderFault providerFault) {
        super(Objects.requireNonNull(providerFault, "providerFault").reason());
        this.providerFault = providerFault;
    }

    public ProviderFault providerFault() {
        return providerFault;
    }

    @Override
    public Fault fault() {
        return providerFault instanceof ProviderFault.QuotaOrAuth ? Fault.REFUSED : Fault.UNAVAILABLE;
    }
}
