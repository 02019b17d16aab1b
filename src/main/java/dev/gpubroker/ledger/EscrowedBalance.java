package dev.gpubroker.ledger;

import org.springframework.stereotype.Component;

import dev.gpubroker.metrics.DatabaseGauges;
import reactor.core.publisher.Mono;

/** What every escrow holds according to the ledger, for the operator's gauge: the ledger owns the lines it sums. */
@Component
class EscrowedBalance implements DatabaseGauges.EscrowSource {

    private final LedgerRepository ledger;

    EscrowedBalance(LedgerRepository ledger) {
        this.ledger = ledger;
    }

    @Override
    public Mono<Long> escrowedMicros() {
        return ledger.escrowBalanceMicros();
    }
}
