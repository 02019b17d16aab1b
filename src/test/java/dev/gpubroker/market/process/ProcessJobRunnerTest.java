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
import dev.gpubroker.market.LaunchOutcome;
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
