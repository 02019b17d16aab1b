package dev.gpubroker.market;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

import reactor.core.publisher.Mono;

/**
 * Optional capability of a real provider whose API reports what it billed the operator (RunPod's billing history):
 * the broker reconciles it against what it metered itself, and shows the operator the difference.
 */
public interface ProviderBilling {

    /**
     * What the provider billed for its jobs in {@code [from, to)}, from its own records. A provider that bills in
     * buckets (hours) widens the window to its bucket boundaries: the bill says the window it covers.
     */
    Mono<Bill> billed(Instant from, Instant to);

    /** A provider's bill: the window it covers, its GPU and total amounts in USD, and each billed resource. */
    record Bill(Instant from, Instant to, BigDecimal gpuUsd, BigDecimal totalUsd, List<Charge> charges) {

        public Bill {
            Objects.requireNonNull(from, "from");
            Objects.requireNonNull(to, "to");
            Objects.requireNonNull(gpuUsd, "gpuUsd");
            Objects.requireNonNull(totalUsd, "totalUsd");
            charges = List.copyOf(charges);
        }
    }

    /** One billed resource (a pod) over the window: its GPU amount and its total (GPU, CPU, disk) in USD. */
    record Charge(String resourceId, BigDecimal gpuUsd, BigDecimal totalUsd) {
    }
}
