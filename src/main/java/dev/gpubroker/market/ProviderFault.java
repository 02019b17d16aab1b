package dev.gpubroker.market;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Why a provider call failed, in the few kinds that decide what the broker does next: the same reading for every
 * provider, so failover and refunds never depend on one provider's error format.
 * <ul>
 * <li>{@link NoCapacity}: the offer is gone or full; try another offer.</li>
 * <li>{@link QuotaOrAuth}: the operator's account is refused (bad key, quota, billing); another provider, and the
 *     operator must act.</li>
 * <li>{@link Transient}: try the same call again later (rate limited, 5xx, unreachable), after {@code retryAfter}
 *     when the provider said.</li>
 * <li>{@link ProvisioningFailed}: the provider accepted but could not bring the job up (image pull, host error,
 *     never ready, not the GPU promised); never billed, fail over.</li>
 * <li>{@link Interrupted}: a running job was taken away (preempted, host lost); billed only for what ran, fail over.</li>
 * </ul>
 */
public sealed interface ProviderFault {

    String reason();

    record NoCapacity(String reason) implements ProviderFault {
        public NoCapacity {
            Objects.requireNonNull(reason, "reason");
        }
    }

    record QuotaOrAuth(String reason) implements ProviderFault {
        public QuotaOrAuth {
            Objects.requireNonNull(reason, "reason");
        }
    }

    /** {@code retryAfter} is what the provider asked for (HTTP {@code Retry-After}), when it did. */
    record Transient(String reason, Optional<Duration> retryAfter) implements ProviderFault {
        public Transient {
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(retryAfter, "retryAfter");
        }

        public Transient(String reason) {
            this(reason, Optional.empty());
        }
    }

    record ProvisioningFailed(String reason) implements ProviderFault {
        public ProvisioningFailed {
            Objects.requireNonNull(reason, "reason");
        }
    }

    record Interrupted(String reason) implements ProviderFault {
        public Interrupted {
            Objects.requireNonNull(reason, "reason");
        }
    }
}
