package dev.gpubroker.market.process;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.gpubroker.market.JobSignal;
import dev.gpubroker.market.JobStatus;
import dev.gpubroker.market.LaunchOutcome;
import dev.gpubroker.market.LogPage;
import reactor.test.StepVerifier;

/** Real processes: what a job's owner sees when it stops a job, and when the broker restarts under it. */
class ProcessJobRunnerTest {

    private static final Duration HOUR = Duration.ofHours(1);

    @TempDir
    Path jobs;

    private JobSandbox sandbox;

    @Test
    void aJobStoppedTheMomentItLaunchedLeavesNoProcessBehind() throws Exception {
        ProcessJobRunner runner = runner();
        for (int i = 0; i < 10; i++) {
            // A unique sleep, forked by the job's shell, so that a survivor can be found in the process table.
            String marker = "600." + ThreadLocalRandom.current().nextInt(100_000, 999_999);
            String handle = "job-stop-" + i;
            StepVerifier.create(runner.launch(handle, spec("sleep " + marker + " & sleep " + marker + "; wait"), HOUR))
                    .expectNextMatches(LaunchOutcome.Launched.class::isInstance).verifyComplete();
            runner.terminate(handle).block(Duration.ofSeconds(5));

            StepVerifier.create(runner.watch(handle).filter(signal -> !(signal instanceof JobSignal.Running)))
                    .expectNextMatches(JobSignal.Terminated.class::isInstance)
                    .verifyComplete();
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (running(marker)) {
                assertThat(System.nanoTime()).as("no 'sleep " + marker + "' left running: " + survivors(marker))
                        .isLessThan(deadline);
                Thread.sleep(50);
            }
        }
    }

    @Test
    void aRestartedBrokerTakesBackAJobStillRunningAndHearsItsRealExitStatus() {
        ProcessJobRunner before = runner();
        StepVerifier.create(before.launch("job-outlives", spec("sleep 1; exit 3"), HOUR))
                .expectNextMatches(LaunchOutcome.Launched.class::isInstance).verifyComplete();

        ProcessJobRunner after = runner();

        StepVerifier.create(after.watch("job-outlives"))
                .expectNextMatches(JobSignal.Running.class::isInstance)
                .expectNextMatches(signal -> signal instanceof JobSignal.Exited exited && exited.exitCode() == 3
                        && !exited.timedOut())
                .expectComplete()
                .verify(Duration.ofSeconds(10));
    }

    @Test
    void aJobThatEndedWhileTheBrokerWasDownIsReportedWithItsExitStatusNotAsLost() throws Exception {
        ProcessJobRunner before = runner();
        StepVerifier.create(before.launch("job-ended", spec("echo done; exit 4"), HOUR))
                .expectNextMatches(LaunchOutcome.Launched.class::isInstance).verifyComplete();
        StepVerifier.create(before.watch("job-ended").last()).expectNextMatches(JobSignal.Exited.class::isInstance)
                .verifyComplete();

        StepVerifier.create(runner().watch("job-ended"))
                .expectNextMatches(JobSignal.Running.class::isInstance)
                .expectNextMatches(signal -> signal instanceof JobSignal.Exited exited && exited.exitCode() == 4)
                .verifyComplete();
        StepVerifier.create(runner().logs("job-ended", null, 10))
                .assertNext(page -> assertThat(page.lines()).containsExactly("done"))
                .verifyComplete();
    }

    /**
     * An instance that hangs (here: its JVM stopped) reaps nothing: the jobs it started stay zombies once they end,
     * and are not this JVM's children, whose exit the JDK only learns by polling. The instance that took them up must
     * still report the end at once, since every "running" it answers is a sighting the job is billed to.
     */
    @Test
    void aJobTakenUpFromAHungInstanceIsReportedEndedAsSoonAsItEnds() throws Exception {
        Process hung = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), FrozenBroker.class.getName(), jobs.toString(), "job-orphan",
                "sleep 2; exit 5").redirectErrorStream(true).start();
        try {
            // Its log lines come first on the same stream.
            assertThat(new java.io.BufferedReader(new java.io.InputStreamReader(hung.getInputStream())).lines()
                    .filter(line -> !line.contains(" INFO ") && !line.contains(" WARN ")).findFirst()).contains("launched");
            new ProcessBuilder("kill", "-STOP", Long.toString(hung.pid())).start().waitFor();
            ProcessJobRunner after = runner();

            java.time.Instant lastAskedRunning = null;
            JobStatus status;
            long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
            while (true) {
                java.time.Instant asked = java.time.Instant.now();
                status = after.status("job-orphan").block(Duration.ofSeconds(5));
                if (!(status instanceof JobStatus.Running)) {
                    break;
                }
                lastAskedRunning = asked;
                assertThat(System.nanoTime()).as("the job (2 s) is reported ended within 15 s").isLessThan(deadline);
                Thread.sleep(50);
            }

            assertThat(status).isInstanceOf(JobStatus.Ended.class);
            JobSignal how = ((JobStatus.Ended) status).how();
            assertThat(how).isInstanceOfSatisfying(JobSignal.Exited.class, exited -> assertThat(exited.exitCode())
                    .isEqualTo(5));
            assertThat(lastAskedRunning).as("was asked while it ran").isNotNull();
            assertThat(Duration.between(((JobSignal.Exited) how).at(), lastAskedRunning))
                    .as("no answer 'running' after the job's recorded end, beyond the wrapper's own exit")
                    .isLessThan(Duration.ofMillis(500));
        } finally {
            hung.destroyForcibly().waitFor();
        }
    }

    @Test
    void aJobWithNoTraceIsLostAndASecondLaunchOfTheSameJobRunsNothingMore() {
        ProcessJobRunner runner = runner();
        StepVerifier.create(runner.watch("job-never-started"))
                .expectNextMatches(signal -> signal instanceof JobSignal.Lost lost && lost.reason().contains("no trace"))
                .verifyComplete();

        StepVerifier.create(runner.launch("job-once", spec("echo once"), HOUR))
                .expectNextMatches(LaunchOutcome.Launched.class::isInstance).verifyComplete();
        StepVerifier.create(runner.watch("job-once").last()).expectNextMatches(JobSignal.Exited.class::isInstance)
                .verifyComplete();
        StepVerifier.create(runner().launch("job-once", spec("echo twice"), HOUR))
                .expectNextMatches(LaunchOutcome.Launched.class::isInstance).verifyComplete();
        StepVerifier.create(runner.logs("job-once", null, 10))
                .assertNext(page -> assertThat(page.lines()).containsExactly("once"))
                .verifyComplete();
    }

    @Test
    void theOutputIsCompleteOnlyOnceTheJobHasEndedAndEveryLineWasRead() throws Exception {
        ProcessJobRunner runner = runner();
        StepVerifier.create(runner.logs("job-not-launched", null, 10))
                .assertNext(page -> assertThat(page.nextCursor()).as("no output of a job not launched").isNull())
                .verifyComplete();
        StepVerifier.create(runner.launch("job-pages", spec("echo one; echo two; echo three; sleep 600"), HOUR))
                .expectNextMatches(LaunchOutcome.Launched.class::isInstance).verifyComplete();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (runner.logs("job-pages", null, 10).block(Duration.ofSeconds(5)).lines().size() < 3) {
            assertThat(System.nanoTime()).as("the first lines were printed").isLessThan(deadline);
            Thread.sleep(50);
        }

        LogPage running = runner.logs("job-pages", "1", 10).block(Duration.ofSeconds(5));
        assertThat(running.lines()).containsExactly("two", "three");
        assertThat(running.nextCursor()).isEqualTo("3");
        assertThat(running.complete()).as("the job still runs and may print more").isFalse();

        runner.terminate("job-pages").block(Duration.ofSeconds(10));
        LogPage full = runner.logs("job-pages", "1", 2).block(Duration.ofSeconds(5));
        assertThat(full.lines()).containsExactly("two", "three");
        assertThat(full.complete()).as("a full page may not be the last").isFalse();
        LogPage last = runner.logs("job-pages", full.nextCursor(), 2).block(Duration.ofSeconds(5));
        assertThat(last.lines()).isEmpty();
        assertThat(last.nextCursor()).as("a cursor past the last line, for the job's owner to hand on").isEqualTo("3");
        assertThat(last.complete()).as("stopped: nothing more will come").isTrue();
    }

    private ProcessJobRunner runner() {
        if (sandbox == null) {
            sandbox = JobSandbox.probe(jobs, JobSandbox.Settings.DEFAULT);
        }
        return new ProcessJobRunner("test-host", jobs, sandbox, ProcessJobRunner.Faults.NONE, Clock.systemUTC());
    }

    private static ProcessSpec spec(String script) {
        return new ProcessSpec.Command(List.of("sh", "-c", script), Map.of());
    }

    private static String survivors(String marker) {
        return ProcessHandle.allProcesses().filter(process -> process.info().commandLine()
                        .map(line -> line.contains("sleep " + marker)).orElse(false))
                .map(process -> process.pid() + " (parent " + process.parent().map(ProcessHandle::pid).orElse(-1L) + ", "
                        + stat(process.pid()) + ")")
                .toList().toString();
    }

    private static String stat(long pid) {
        try {
            return java.nio.file.Files.readString(Path.of("/proc", Long.toString(pid), "stat")).strip();
        } catch (java.io.IOException e) {
            return "no /proc entry";
        }
    }

    private static boolean running(String marker) {
        return ProcessHandle.allProcesses().anyMatch(process -> process.info().commandLine()
                .map(line -> line.contains("sleep " + marker)).orElse(false));
    }
}
