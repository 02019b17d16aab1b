package dev.gpubroker.market;

import java.util.Objects;

/** A launch: started, or refused by the provider (its fault: the agent pays nothing for it). */
public sealed interface LaunchOutcome {

    record Launched(String jobId) implements LaunchOutcome {
    }

    /** Refused or failed on the way up; {@code fault} says which kind, and the job fails over. */
    record LaunchFailed(ProviderFault fault) implements LaunchOutcome {

        public LaunchFailed {
            Objects.requireNonNull(fault, "fault");
        }

        /** The provider could not bring the job up, for this reason. */
        public LaunchFailed(String reason) {
            this(new ProviderFault.ProvisioningFailed(reason));
        }

        public String reason() {
            return fault.reason();
        }
    }
}
