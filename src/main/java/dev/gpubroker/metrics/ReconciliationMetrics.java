package dev.gpubroker.metrics;

import java.time.Instant;
import java.util.concurrent.atomic.AtomicReference;

import org.springframework.stereotype.Component;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * What the last reconciliation of the ledger against the escrow's events on chain found on this instance
 * ({@code gpubroker_reconciliation_mismatches}), and when it ran ({@code
 * gpubroker_reconciliation_last_run_timestamp_seconds}). Both are NaN until one has run here: reconciliation runs
 * under a lease on one instance at a time, and whenever the operator asks for it ({@code GET /admin/v1/reconciliation}).
 */
@Component
public class ReconciliationMetrics {

    static final String MISMATCHES = "gpubroker.reconciliation.mismatches";
    static final String LAST_RUN = "gpubroker.reconciliation.last.run.timestamp";

    private record Result(int mismatches, Instant at) {
    }

    private final AtomicReference<Result> last = new AtomicReference<>();

    public ReconciliationMetrics(MeterRegistry registry) {
        Gauge.builder(MISMATCHES, last, held -> held.get() == null ? Double.NaN : held.get().mismatches())
                .description("Mismatches between the ledger and the escrow's events on chain, at the last reconciliation")
                .strongReference(true)
                .register(registry);
        Gauge.builder(LAST_RUN, last, held -> held.get() == null ? Double.NaN : held.get().at().toEpochMilli() / 1000.0)
                .description("When the last reconciliation on this instance finished (Unix time)")
                .baseUnit("seconds")
                .strongReference(true)
                .register(registry);
    }

    public void recorded(int mismatches, Instant at) {
        if (mismatches < 0) {
            throw new IllegalArgumentException("a count of mismatches is never negative: " + mismatches);
        }
        last.set(new Result(mismatches, at));
    }
}
