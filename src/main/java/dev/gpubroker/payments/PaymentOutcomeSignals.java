package dev.gpubroker.payments;

import org.springframework.stereotype.Component;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;

/**
 * Tells the pay calls waiting on this instance that a payment's outcome was recorded (confirmed or failed), so that
 * they read it at once instead of asking the database every 100 ms each: with many payments in flight the polling
 * was a good part of the server's CPU per deposit (docs/performance.md). An outcome recorded by another instance is
 * not signalled here; waiters still look at the database once a second for that.
 */
@Component
class PaymentOutcomeSignals {

    private final Sinks.Many<String> recorded = Sinks.many().multicast().directBestEffort();

    void recorded(String paymentId) {
        // Outcomes are recorded by several listeners at once, and a sink refuses a signal emitted while another is
        // (FAIL_NON_SERIALIZED): unserialized, most signals under load were lost and their pay calls waited for the
        // once-a-second read. A waiter that is slow to take the signal loses nothing: it reads on its next tick.
        synchronized (recorded) {
            recorded.tryEmitNext(paymentId);
        }
    }

    Flux<String> of(String paymentId) {
        return recorded.asFlux().filter(paymentId::equals);
    }
}
