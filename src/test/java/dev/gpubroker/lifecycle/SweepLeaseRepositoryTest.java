package dev.gpubroker.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import dev.gpubroker.support.BrokerIntegrationTest;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/**
 * The sweep leases on the application's own database: one holder at a time, renewed by its holder, taken over once it
 * runs out or is given back, and one winner when instances race for it. Each test uses leases of its own (the
 * application's sweeps hold theirs beside them), at times of its own choosing.
 */
class SweepLeaseRepositoryTest extends BrokerIntegrationTest {

    private static final Instant START = Instant.parse("2031-03-01T12:00:00Z");
    private static final Duration LEASE = Duration.ofSeconds(10);
    private static final int RACES = 25;
    private static final int RACERS = 6;

    @Autowired
    SweepLeaseRepository leases;

    @Test
    void aLeaseHeldByOneHolderIsRefusedToAnother() {
        String lease = newLeaseName();
        assertThat(claim(lease, "first", START)).isTrue();
        assertThat(claim(lease, "second", START.plusSeconds(1))).isFalse();
        assertThat(claim(lease, "second", START.plus(LEASE))).as("held up to its last millisecond").isFalse();
    }

    @Test
    void theHolderRenewsItsLeaseAndKeepsItPastTheFirstEnd() {
        String lease = newLeaseName();
        assertThat(claim(lease, "first", START)).isTrue();
        assertThat(claim(lease, "first", START.plusSeconds(5))).isTrue();
        assertThat(claim(lease, "second", START.plus(LEASE).plusSeconds(1))).as("renewed until 15 s in").isFalse();
        assertThat(claim(lease, "first", START.plusSeconds(14))).isTrue();
    }

    @Test
    void anotherHolderTakesOverALeaseThatRanOut() {
        String lease = newLeaseName();
        assertThat(claim(lease, "first", START)).isTrue();
        assertThat(claim(lease, "second", START.plus(LEASE).plusMillis(1))).isTrue();
        assertThat(claim(lease, "first", START.plus(LEASE).plusSeconds(2))).as("the first holder lost it").isFalse();
    }

    @Test
    void aLeaseGivenBackIsTakenAtOnceByAnother() {
        String lease = newLeaseName();
        assertThat(claim(lease, "first", START)).isTrue();
        StepVerifier.create(leases.release(lease, "first")).verifyComplete();
        assertThat(claim(lease, "second", START.plusSeconds(1))).isTrue();
    }

    @Test
    void onlyTheHolderGivesALeaseBack() {
        String lease = newLeaseName();
        assertThat(claim(lease, "first", START)).isTrue();
        StepVerifier.create(leases.release(lease, "second")).verifyComplete();
        StepVerifier.create(leases.release(newLeaseName(), "second")).as("a lease nobody took").verifyComplete();
        assertThat(claim(lease, "third", START.plusSeconds(1))).isFalse();
    }

    @Test
    void holdersCreatingALeaseAtTheSameMomentGetOneLeaseBetweenThem() {
        for (int race = 0; race < RACES; race++) {
            String lease = newLeaseName();
            assertThat(race(lease, START)).as("holders of lease %s", lease).containsOnlyOnce(true);
        }
    }

    @Test
    void holdersTakingOverALeaseThatRanOutAtTheSameMomentGetItOnce() {
        for (int race = 0; race < RACES; race++) {
            String lease = newLeaseName();
            assertThat(claim(lease, "dead", START)).isTrue();
            assertThat(race(lease, START.plus(LEASE).plusSeconds(1))).as("holders of lease %s", lease)
                    .containsOnlyOnce(true);
        }
    }

    private List<Boolean> race(String lease, Instant now) {
        return Flux.range(0, RACERS)
                .flatMap(racer -> leases.claim(lease, "racer-" + racer, now, now.plus(LEASE))
                        .subscribeOn(Schedulers.parallel()), RACERS)
                .collectList()
                .block(Duration.ofSeconds(30));
    }

    private boolean claim(String lease, String holder, Instant now) {
        return leases.claim(lease, holder, now, now.plus(LEASE)).block(Duration.ofSeconds(10));
    }

    private static String newLeaseName() {
        byte[] random = new byte[6];
        ThreadLocalRandom.current().nextBytes(random);
        return "test-" + HexFormat.of().formatHex(random);
    }
}
