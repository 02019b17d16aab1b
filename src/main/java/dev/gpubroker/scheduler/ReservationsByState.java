package dev.gpubroker.scheduler;

import java.util.Map;

import org.springframework.stereotype.Component;

import dev.gpubroker.metrics.DatabaseGauges;
import reactor.core.publisher.Mono;

/** The reservations by state for the operator's gauge: this package owns the table, so it does the counting. */
@Component
class ReservationsByState implements DatabaseGauges.StateSource {

    private final ReservationRepository reservations;

    ReservationsByState(ReservationRepository reservations) {
        this.reservations = reservations;
    }

    @Override
    public DatabaseGauges.Lifecycle lifecycle() {
        return DatabaseGauges.Lifecycle.RESERVATIONS;
    }

    @Override
    public Mono<Map<String, Long>> countByState() {
        return reservations.countByState();
    }
}
