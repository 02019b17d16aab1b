package dev.gpubroker.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import reactor.core.publisher.Mono;

/** The rules of a sweep's lease that need no database, and a sweep built by hand, which runs without one. */
class PeriodicSweepTest {

    @Test
    void aSweepBuiltByHandRunsEveryPassWithoutALease() {
        CountingSweep sweep = new CountingSweep("by-hand", Duration.ofMillis(20), Duration.ZERO, Duration.ZERO,
                new AtomicInteger(), new AtomicInteger());
        sweep.start();
        try {
            await().atMost(Duration.ofSeconds(10)).until(() -> sweep.passes.get() >= 3);
        } finally {
            sweep.stop();
        }
        assertThat(sweep.isRunning()).isFalse();
    }

    @Test
    void theLeaseIsNamedAfterTheSweepUnlessTheSweepNamesIt() {
        assertThat(named("Job recovery").leaseName()).isEqualTo("job-recovery");
        assertThat(named("Transaction tracking").leaseName()).isEqualTo("transaction-tracking");
        assertThat(named(" Escrow  recovery (chain) ").leaseName()).isEqualTo("escrow-recovery-chain");
        assertThat(new CountingSweep("counting-7", Duration.ofSeconds(1), Duration.ZERO, Duration.ZERO,
                new AtomicInteger(), new AtomicInteger()).leaseName()).isEqualTo("counting-7");
    }

    @Test
    void aLeaseLastsThreeIntervalsAndNeverLessThanFiveSeconds() {
        assertThat(every(Duration.ofMillis(200)).leaseDuration()).isEqualTo(Duration.ofSeconds(5));
        assertThat(every(Duration.ofSeconds(2)).leaseDuration()).isEqualTo(Duration.ofSeconds(6));
        assertThat(every(Duration.ofMinutes(1)).leaseDuration()).isEqualTo(Duration.ofMinutes(3));
    }

    @Test
    void aLeaseNameOtherThanLowercaseWordsJoinedByHyphensIsRefused() {
        for (String bad : new String[] {"", "Job-recovery", "job recovery", "job--recovery", "-job", "x".repeat(65)}) {
            assertThatThrownBy(() -> new CountingSweep(bad, Duration.ofSeconds(1), Duration.ZERO, Duration.ZERO,
                    new AtomicInteger(), new AtomicInteger()))
                    .as("lease name '%s'", bad).isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> named("..."))
                .as("a name with no letters or digits names no lease").isInstanceOf(IllegalArgumentException.class);
    }

    private static PeriodicSweep named(String name) {
        return new PeriodicSweep(name, Duration.ofSeconds(1)) {
            @Override
            public Mono<Void> sweep() {
                return Mono.empty();
            }
        };
    }

    private static PeriodicSweep every(Duration interval) {
        return new PeriodicSweep("Some sweep", interval) {
            @Override
            public Mono<Void> sweep() {
                return Mono.empty();
            }
        };
    }
}
