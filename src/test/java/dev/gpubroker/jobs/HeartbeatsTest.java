package dev.gpubroker.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.gpubroker.money.Usdc;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** Heartbeats are written at most once per interval per job, and never lost to a failed write. */
class HeartbeatsTest {

    private static final Instant START = Instant.parse("2026-11-29T12:00:00Z");

    private final JobRepository jobs = mock(JobRepository.class);
    private final MovableClock clock = new MovableClock(START);
    private final Heartbeats heartbeats = new Heartbeats(jobs, clock);

    @Test
    void callsWithinTheIntervalShareOneWriteAndTheFirstCallAfterItWritesAgain() {
        when(jobs.heartbeat(any(), any())).thenReturn(Mono.empty());
        Job job = job("job_a", 30, JobState.RUNNING);

        for (int call = 0; call < 10; call++) {
            StepVerifier.create(heartbeats.beat(job)).verifyComplete();
            clock.move(Duration.ofMillis(90));
        }
        clock.move(Duration.ofMillis(100));
        StepVerifier.create(heartbeats.beat(job)).verifyComplete();

        verify(jobs).heartbeat("job_a", START);
        verify(jobs).heartbeat("job_a", START.plusMillis(1000));
        verify(jobs, times(2)).heartbeat(eq("job_a"), any());
    }

    @Test
    void eachJobHasItsOwnInterval() {
        when(jobs.heartbeat(any(), any())).thenReturn(Mono.empty());

        StepVerifier.create(heartbeats.beat(job("job_a", 30, JobState.RUNNING))).verifyComplete();
        StepVerifier.create(heartbeats.beat(job("job_b", 30, JobState.LAUNCHING))).verifyComplete();

        verify(jobs).heartbeat("job_a", START);
        verify(jobs).heartbeat("job_b", START);
    }

    @Test
    void jobsWithoutADeadManSwitchOrThatEndedWriteNothing() {
        StepVerifier.create(heartbeats.beat(job("job_a", null, JobState.RUNNING))).verifyComplete();
        StepVerifier.create(heartbeats.beat(job("job_b", 30, JobState.COMPLETED))).verifyComplete();

        verify(jobs, never()).heartbeat(any(), any());
    }

    @Test
    void aFailedWriteLeavesTheNextCallToWrite() {
        when(jobs.heartbeat(any(), any())).thenReturn(Mono.error(new IllegalStateException("database gone")),
                Mono.empty());
        Job job = job("job_a", 30, JobState.RUNNING);

        StepVerifier.create(heartbeats.beat(job)).verifyError(IllegalStateException.class);
        clock.move(Duration.ofMillis(10));
        StepVerifier.create(heartbeats.beat(job)).verifyComplete();

        verify(jobs).heartbeat("job_a", START.plusMillis(10));
    }

    private static Job job(String jobId, Integer heartbeatSeconds, JobState state) {
        return new Job(jobId, "res_" + jobId, "agt_a", "key-" + jobId, "demo-steady", List.of("sleep", "60"), null, 3600,
                state, START, null, null, 0, Usdc.ZERO, Usdc.ZERO, null, START, heartbeatSeconds, START, 1, null, false,
                List.of(), false, null);
    }

    /** A clock the test moves by hand. */
    private static final class MovableClock extends Clock {

        private Instant now;

        MovableClock(Instant start) {
            this.now = start;
        }

        void move(Duration by) {
            now = now.plus(by);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }
    }
}
