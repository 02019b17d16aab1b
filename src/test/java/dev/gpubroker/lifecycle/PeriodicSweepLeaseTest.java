package dev.gpubroker.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import dev.gpubroker.support.BrokerIntegrationTest;

/**
 * Copies of one sweep on several instances sharing the application's database, each instance with a name of its own
 * ({@link BrokerInstance}), ticking every 20 ms: one runs its passes at a time, never two at once, and another takes
 * over when it stops or dies. The application's own sweeps hold their leases beside these.
 */
class PeriodicSweepLeaseTest extends BrokerIntegrationTest {

    private static final Duration TICK = Duration.ofMillis(20);
    private static final Duration PASS = Duration.ofMillis(5);

    @Autowired
    SweepLeaseRepository leases;

    private final AtomicInteger running = new AtomicInteger();
    private final AtomicInteger overlaps = new AtomicInteger();
    private final List<CountingSweep> started = new ArrayList<>();

    @AfterEach
    void stopSweeps() {
        started.forEach(PeriodicSweep::stop);
    }

    @Test
    void twoInstancesNeverSweepAtOnceAndTheOtherTakesOverAtOnceWhenTheHolderStops() {
        String lease = newLeaseName();
        CountingSweep first = start(lease, PASS);
        CountingSweep second = start(lease, PASS);
        await().atMost(Duration.ofSeconds(20)).until(() -> first.passes.get() + second.passes.get() >= 30);
        CountingSweep holder = first.passes.get() > 0 ? first : second;
        CountingSweep other = holder == first ? second : first;
        assertThat(other.passes).as("the instance without the lease has run no pass").hasValue(0);

        Instant stoppedAt = Instant.now();
        holder.stop();
        int holderPasses = holder.passes.get();
        await().atMost(Duration.ofSeconds(20)).until(() -> other.passes.get() >= 30);

        assertThat(Duration.between(stoppedAt, other.firstPassAt))
                .as("taken over on the next tick, not when the lease would have run out")
                .isLessThan(Duration.ofSeconds(4));
        assertThat(holder.passes).as("no pass after its stop").hasValue(holderPasses);
        assertThat(overlaps).as("passes under way at the same time").hasValue(0);
    }

    @Test
    void theLeaseOfAnInstanceThatDiedIsTakenOverOnceItRunsOut() {
        String lease = newLeaseName();
        Instant now = Instant.now();
        Instant deadUntil = now.plusSeconds(2);
        assertThat(leases.claim(lease, "a-dead-instance", now, deadUntil).block(Duration.ofSeconds(10))).isTrue();

        CountingSweep survivor = start(lease, PASS);
        await().atMost(Duration.ofSeconds(20)).until(() -> survivor.passes.get() >= 3);

        assertThat(survivor.firstPassAt).as("no pass while the dead instance's lease ran").isAfterOrEqualTo(deadUntil);
    }

    @Test
    void aPassLongerThanItsLeaseKeepsTheLeaseUntilItEnds() {
        String lease = newLeaseName();
        CountingSweep slow = start(lease, Duration.ofMillis(6500), PASS);
        await().atMost(Duration.ofSeconds(10)).until(() -> slow.passes.get() == 1);
        CountingSweep other = start(lease, PASS);
        assertThat(slow.leaseDuration()).isLessThan(Duration.ofMillis(6500));

        await().atMost(Duration.ofSeconds(20)).until(() -> slow.passes.get() >= 3 || other.passes.get() > 0);

        assertThat(other.passes).as("the other instance waited, renewal after renewal").hasValue(0);
        assertThat(slow.cancelled).hasValue(0);
        assertThat(overlaps).hasValue(0);
    }

    @Test
    void aPassWhoseLeaseAnotherInstanceTookIsCancelled() {
        String lease = newLeaseName();
        CountingSweep holder = start(lease, Duration.ofMinutes(1), PASS);
        await().atMost(Duration.ofSeconds(10)).until(() -> holder.passes.get() == 1);

        // As if this instance had not reached the database for a whole lease, and another had taken the lease over.
        Long taken = db.sql("UPDATE sweep_leases SET holder = 'another-instance', lease_until = :until WHERE name = :name")
                .bind("until", Instant.now().plusSeconds(60).atOffset(java.time.ZoneOffset.UTC)).bind("name", lease)
                .fetch().rowsUpdated().block(Duration.ofSeconds(10));
        assertThat(taken).isEqualTo(1L);

        await().atMost(Duration.ofSeconds(10)).until(() -> holder.cancelled.get() == 1);
        assertThat(running).as("no pass under way").hasValue(0);
        assertThat(holder.passes).as("no pass since").hasValue(1);
    }

    private CountingSweep start(String lease, Duration passTime) {
        return start(lease, passTime, passTime);
    }

    private CountingSweep start(String lease, Duration firstPassTime, Duration passTime) {
        CountingSweep sweep = new CountingSweep(lease, TICK, firstPassTime, passTime, running, overlaps);
        sweep.runUnderLease(leases, new BrokerInstance());
        started.add(sweep);
        sweep.start();
        return sweep;
    }

    private static String newLeaseName() {
        byte[] random = new byte[6];
        ThreadLocalRandom.current().nextBytes(random);
        return "test-" + HexFormat.of().formatHex(random);
    }
}
