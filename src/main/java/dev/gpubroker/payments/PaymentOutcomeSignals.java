package dev.gpubroker.payments;

import org.springframework.stereotype.Component;

import dev.gpubroker.platform.signals.Announcements;
import reactor.core.publisher.Flux;

/**
 * Tells the pay calls waiting on this instance that a payment's outcome was recorded (confirmed or failed), so that
 * they read it at once instead of asking the database every 100 ms each: with many payments in flight the polling
 * was a good part of the server's CPU per deposit (docs/performance.md). An outcome recorded by another instance is
 * not signalled here; waiters still look at the database once a second for that.
 */
@Component
class PaymentOutcomeSignals {

    private final Announcements recorded = new Announcements();

    /** Called by the listeners that record outcomes, several at once. A waiter that misses it reads on its next tick. */
    void recorded(String paymentId) {
        recorded.announce(paymentId);
    }

    Flux<String> of(String paymentId) {
        return recorded.of(paymentId);
    }
}
