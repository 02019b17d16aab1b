package dev.gpubroker.payments;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

/** Outcomes are recorded by several listener threads at once; every waiting pay call must hear its own. */
class PaymentOutcomeSignalsTest {

    @Test
    void everyWaiterHearsItsPaymentsOutcomeWhenManyAreRecordedAtOnce() throws Exception {
        PaymentOutcomeSignals signals = new PaymentOutcomeSignals();
        List<String> paymentIds = IntStream.range(0, 4000).mapToObj(i -> "pay_" + i).toList();
        AtomicInteger heard = new AtomicInteger();
        paymentIds.forEach(id -> signals.of(id).next().subscribe(signal -> heard.incrementAndGet()));

        try (ExecutorService listeners = Executors.newFixedThreadPool(8)) {
            for (int thread = 0; thread < 8; thread++) {
                int first = thread;
                listeners.submit(() -> {
                    for (int i = first; i < paymentIds.size(); i += 8) {
                        signals.recorded(paymentIds.get(i));
                    }
                });
            }
            listeners.shutdown();
            assertThat(listeners.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        }

        // Signals are delivered on the recording thread: all of them are in once the listeners are done.
        assertThat(heard.get()).as("waiters that heard their outcome, of %d", paymentIds.size())
                .isEqualTo(paymentIds.size());
    }
}
