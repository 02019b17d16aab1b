package dev.gpubroker.payments;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

import dev.gpubroker.config.BrokerProperties;
import dev.gpubroker.lifecycle.PeriodicSweep;
import reactor.core.publisher.Mono;

/**
 * Reconciles the ledger against the escrow's events on chain every {@code gpubroker.metrics.reconciliation-interval}
 * (at least a minute: each run reads every escrow event from the chain), on one instance at a time, so that the
 * operator's gauge of mismatches is current without anyone asking; a run with mismatches is logged as an error, each
 * mismatch named by {@code GET /admin/v1/reconciliation}.
 */
@Component
class ReconciliationSweep extends PeriodicSweep {

    private static final Logger log = LoggerFactory.getLogger(ReconciliationSweep.class);

    private final Reconciliation reconciliation;

    ReconciliationSweep(Reconciliation reconciliation, BrokerProperties properties) {
        super("Reconciliation", properties.metrics().reconciliationInterval());
        this.reconciliation = reconciliation;
    }

    @Override
    public Mono<Void> sweep() {
        return reconciliation.run()
                .doOnNext(report -> {
                    if (!report.clean()) {
                        log.error("Reconciliation up to block {} found {} mismatches between the ledger and the escrow's "
                                + "events; GET /admin/v1/reconciliation lists them", report.toBlock(),
                                report.mismatches().size());
                    }
                })
                .then();
    }
}
