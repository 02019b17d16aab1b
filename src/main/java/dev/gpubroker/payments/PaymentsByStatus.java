package dev.gpubroker.payments;

import java.util.Map;

import org.springframework.stereotype.Component;

import dev.gpubroker.metrics.DatabaseGauges;
import reactor.core.publisher.Mono;

/** The payments by status for the operator's gauge: this package owns the table, so it does the counting. */
@Component
class PaymentsByStatus implements DatabaseGauges.StateSource {

    private final PaymentRepository payments;

    PaymentsByStatus(PaymentRepository payments) {
        this.payments = payments;
    }

    @Override
    public DatabaseGauges.Lifecycle lifecycle() {
        return DatabaseGauges.Lifecycle.PAYMENTS;
    }

    @Override
    public Mono<Map<String, Long>> countByState() {
        return payments.countByStatus();
    }
}
