package dev.gpubroker.admin;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

import dev.gpubroker.payments.Reconciliation;
import reactor.core.publisher.Mono;

/** The ledger against the escrow's events on chain: every mismatch, for the operator. */
@RestController
class AdminReconciliationController {

    private final Reconciliation reconciliation;

    AdminReconciliationController(Reconciliation reconciliation) {
        this.reconciliation = reconciliation;
    }

    @GetMapping(AdminRoutes.PREFIX + "/reconciliation")
    Mono<Reconciliation.Report> reconcile() {
        return reconciliation.run();
    }
}
