package dev.gpubroker.market.process;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import dev.gpubroker.market.LaunchOutcome;

/**
 * Another broker's JVM, for tests of what one instance sees of jobs another started: it launches one job into the
 * given jobs directory, says so on stdout, and waits to be stopped or killed. Frozen with SIGSTOP it reaps nothing, so
 * its jobs' wrappers stay zombies when they end, as under an instance that hangs.
 *
 * <p>Arguments: the jobs directory, the job's handle, its shell script.
 */
public final class FrozenBroker {

    private FrozenBroker() {
    }

    public static void main(String[] args) throws InterruptedException {
        Path jobsDir = Path.of(args[0]);
        ProcessJobRunner runner = new ProcessJobRunner("test-host", jobsDir,
                JobSandbox.probe(jobsDir, JobSandbox.Settings.DEFAULT), ProcessJobRunner.Faults.NONE, Clock.systemUTC());
        LaunchOutcome launched = runner.launch(args[1], new ProcessSpec.Command(List.of("sh", "-c", args[2]), Map.of()),
                Duration.ofHours(1)).block(Duration.ofSeconds(30));
        System.out.println(launched instanceof LaunchOutcome.Launched ? "launched" : "not launched: " + launched);
        System.out.flush();
        Thread.sleep(Duration.ofMinutes(10));
    }
}
