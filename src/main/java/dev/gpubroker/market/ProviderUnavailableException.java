package dev.gpubroker.market;

import dev.gpubroker.platform.faults.ClassifiedFault;
import dev.gpubroker.platform.faults.Fault;

/** The provider could not answer at all (API error, malformed answer, maintenance). Transient by nature. */
public class ProviderUnavailableException extends RuntimeException implements ClassifiedFault {

    public ProviderUnavailableException(String message) {
        super(message);
    }

    @Override
    public Fault fault() {
        return Fault.UNAVAILABLE;
    }
}
