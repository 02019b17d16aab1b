package dev.gpubroker.market.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ThreadLocalRandom;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.gpubroker.market.JobSignal;
import dev.gpubroker.market.LaunchOutcome;

/**
 * The start and the end the broker bills come from what it observed outside the sandbox, never from anything the job
 * can write: a job that forges its records, leaves processes behind, or prepares for the broker's restart is still
 * billed from its real start to the moment its last process was gone, and stopped as itself.
 */
class JobEndObservationTest {

    private static final Duration HOUR = Duration.ofHours(1);

    @TempDir
    Path jobs;

    private JobSandbox sandbox;
    private final List<ProcessJobRunner> runners = new ArrayList<>();
    private final List<String> launched = new ArrayList<>();
    private final List<Process> hostProcesses = new ArrayList<>();

    @BeforeEach
    void sandbox() {
        sandbox = JobSandbox.probe(jobs, JobSandbox.Settings.DEFAULT);
        assertThat(sandbox.unavailableReason()).as("bubblewrap works on this host (.ci/run installs it)").isEmpty();
    }

    @AfterEach
    void stopEverything() {
        runners.forEach(runner -> launched.forEach(handle -> runner.terminate(handle).block(Duration.ofSeconds(10))));
        hostProcesses.forEach(Process::destroyForcibly);
    }

    @Test
    void aJobThatForgesEveryRecordItCanReachIsBilledForItsRealRunTimeAndExitStatus() throws Exception {
        ProcessJobRunner runner = runner();
        // What fooled the broker before: a backdated exit-code, and exit-code.tmp made a directory so that the real
        // status could not be written; here also every other record's name, in every place the job can write.
        String forge = "for dir in /work /work/.. /tmp; do for name in ended launch.properties output.log "
                + "sandbox-status.json; do echo '0 1000000000' > $dir/$name; touch -d '2001-01-01' $dir/$name; done;"
                + " echo 0 > $dir/exit-code; touch -d '2001-01-01' $dir/exit-code;"
                + " mkdir $dir/exit-code.tmp $dir/ended.tmp $dir/launch.properties.tmp; done 2>/dev/null;";

        Map<Class<?>, JobSignal> signals = run(runner, "job-forger", forge + " sleep 3; " + forge + " exit 5");

        Instant start = ((JobSignal.Running) signals.get(JobSignal.Running.class)).at();
        JobSignal.Exited exited = (JobSignal.Exited) signals.get(JobSignal.Exited.class);
        assertThat(exited.exitCode()).isEqualTo(5);
        assertThat(Duration.between(start, exited.at())).as("billed for the 3 s it ran").isGreaterThanOrEqualTo(
                Duration.ofSeconds(3)).isLessThan(Duration.ofSeconds(10));
        assertThat(launchRecord("job-forger").getProperty("startedAt")).isEqualTo(start.toString());
    }

    @Test
    void everythingAJobStartedEndsWithItAndTheEndIsTakenWhenTheLastOfItIsGone() throws Exception {
        ProcessJobRunner runner = runner();
        String marker = marker();
        // Children that outlive their parent: a double fork, a new session, and one that would run 3 s more.
        String script = "(sleep " + marker + " &); setsid sleep " + marker + " & (sleep 3; echo late-child) &"
                + " sleep 1; echo \"main-ends $(date +%s%N)\"; exit 0";

        Map<Class<?>, JobSignal> signals = run(runner, "job-leaves-children", script);

        assertThat(running("sleep " + marker)).as("no process of the job is left when its end is reported").isFalse();
        JobSignal.Exited exited = (JobSignal.Exited) signals.get(JobSignal.Exited.class);
        List<String> output = runner.logs("job-leaves-children", null, 100).block(Duration.ofSeconds(10)).lines();
        long mainEndedNanos = Long.parseLong(output.stream().filter(line -> line.startsWith("main-ends "))
                .findFirst().orElseThrow().substring("main-ends ".length()));
        Instant mainEnded = Instant.ofEpochSecond(0, mainEndedNanos);
        assertThat(exited.at()).as("the end is taken after the main process and everything it started are gone")
                .isAfterOrEqualTo(mainEnded);
        Thread.sleep(3_500);
        assertThat(runner.logs("job-leaves-children", null, 100).block(Duration.ofSeconds(10)).lines())
                .as("the child that would have run 3 s more was ended with the job").doesNotContain("late-child");
        assertThat(running("sleep " + marker)).isFalse();
    }

    @Test
    void aJobCannotPassForLostAfterARestartWhateverItDidToItsFiles() throws Exception {
        ProcessJobRunner before = runner();
        launch(before, "job-vandal", "rm -rf /work/* /work/.* 2>/dev/null; for name in launch.properties ended "
                + "exit-code; do echo garbage > /work/$name; echo garbage > /work/../$name; done 2>/dev/null;"
                + " sleep 2; exit 3");
        Instant start = ((JobSignal.Running) before.watch("job-vandal").blockFirst(Duration.ofSeconds(5))).at();

        ProcessJobRunner after = runner();
        List<JobSignal> signals = after.watch("job-vandal").collectList().block(Duration.ofSeconds(20));

        assertThat(signals).hasSize(2);
        assertThat(signals.get(0)).isEqualTo(new JobSignal.Running(start));
        assertThat(signals.get(1)).isInstanceOfSatisfying(JobSignal.Exited.class, exited -> {
            assertThat(exited.exitCode()).isEqualTo(3);
            assertThat(Duration.between(start, exited.at())).isGreaterThanOrEqualTo(Duration.ofSeconds(2));
        });
    }

    @Test
    void aJobThatEndedWhileTheBrokerWasDownIsBilledToItsObservedEndNotToTheRestart() throws Exception {
        ProcessJobRunner before = runner();
        launch(before, "job-ends-alone", "sleep 1; exit 0");
        JobSignal.Running running = (JobSignal.Running) before.watch("job-ends-alone").blockFirst(Duration.ofSeconds(5));
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(jobs.resolve("job-ends-alone/ended")));
        Thread.sleep(2_000);

        List<JobSignal> signals = runner().watch("job-ends-alone").collectList().block(Duration.ofSeconds(10));

        assertThat(signals.get(1)).isInstanceOfSatisfying(JobSignal.Exited.class, exited -> assertThat(
                Duration.between(running.at(), exited.at())).isBetween(Duration.ofSeconds(1), Duration.ofMillis(2_500)));
    }

    @Test
    void aRestartedBrokerStopsTheJobsOwnProcessesAndNoOther() throws Exception {
        String marker = marker();
        ProcessJobRunner before = runner();
        // The job names a process of the host as its own wherever it can, hoping the broker kills that one instead.
        Process decoy = new ProcessBuilder("sleep", "600").start();
        hostProcesses.add(decoy);
        launch(before, "job-decoy", "for dir in /work /work/..; do printf 'pid=%s\\n' " + decoy.pid()
                + " > $dir/launch.properties; done 2>/dev/null; exec sleep " + marker);
        await().atMost(Duration.ofSeconds(10)).until(() -> running("sleep " + marker));
        long wrapper = Long.parseLong(launchRecord("job-decoy").getProperty("pid"));

        ProcessJobRunner after = runner();
        after.terminate("job-decoy").block(Duration.ofSeconds(15));

        assertThat(after.watch("job-decoy").collectList().block(Duration.ofSeconds(5)))
                .last().isInstanceOf(JobSignal.Terminated.class);
        assertThat(running("sleep " + marker)).as("the job's own process is gone").isFalse();
        assertThat(ProcessHandle.of(wrapper).filter(ProcessHandle::isAlive)).isEmpty();
        assertThat(decoy.isAlive()).as("the process the job named is untouched").isTrue();
    }

    private ProcessJobRunner runner() {
        ProcessJobRunner runner = new ProcessJobRunner("test-host", jobs, sandbox, ProcessJobRunner.Faults.NONE,
                Clock.systemUTC());
        runners.add(runner);
        return runner;
    }

    private void launch(ProcessJobRunner runner, String handle, String script) {
        launched.add(handle);
        assertThat(runner.launch(handle, new ProcessSpec.Command(List.of("sh", "-c", script), Map.of()), HOUR)
                .block(Duration.ofSeconds(10))).isInstanceOf(LaunchOutcome.Launched.class);
    }

    private Map<Class<?>, JobSignal> run(ProcessJobRunner runner, String handle, String script) {
        launch(runner, handle, script);
        Map<Class<?>, JobSignal> signals = new java.util.HashMap<>();
        runner.watch(handle).doOnNext(signal -> signals.put(signal.getClass(), signal)).blockLast(Duration.ofSeconds(30));
        assertThat(signals).containsKeys(JobSignal.Running.class, JobSignal.Exited.class);
        return signals;
    }

    private Properties launchRecord(String handle) throws Exception {
        Properties record = new Properties();
        try (var in = Files.newBufferedReader(jobs.resolve(handle).resolve("launch.properties"))) {
            record.load(in);
        }
        return record;
    }

    private static String marker() {
        return "600." + ThreadLocalRandom.current().nextInt(100_000, 999_999);
    }

    private static boolean running(String commandLine) {
        return ProcessHandle.allProcesses().anyMatch(process -> process.info().commandLine()
                .map(line -> line.contains(commandLine)).orElse(false));
    }
}
