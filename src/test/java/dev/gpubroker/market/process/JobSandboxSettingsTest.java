package dev.gpubroker.market.process;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.gpubroker.market.JobSignal;
import dev.gpubroker.market.LaunchOutcome;

/** What runs where no sandbox can be made, with and without the operator's leave; and a container client's inputs. */
class JobSandboxSettingsTest {

    private static final Duration HOUR = Duration.ofHours(1);
    private static final String NO_BUBBLEWRAP = "/nonexistent/bwrap";

    @TempDir
    Path jobs;

    @Test
    void withoutASandboxAPlainCommandIsRefusedBeforeAndAtLaunch() {
        JobSandbox sandbox = JobSandbox.probe(jobs, new JobSandbox.Settings(false, JobSandbox.Settings.DEFAULT_FIRST_UID,
                NO_BUBBLEWRAP, List.of()));

        assertThat(sandbox.available()).isFalse();
        assertThat(sandbox.admitCommand("demo-x")).hasValueSatisfying(refusal -> {
            assertThat(refusal.code()).isEqualTo("sandbox_unavailable");
            assertThat(refusal.message()).contains("bubblewrap is not installed", "apt-get install bubblewrap",
                    "unprivileged_userns", "gpubroker.jobs.allow-unsandboxed=true");
        });
        assertThat(runner(sandbox).launch("job-refused", command("echo ran"), HOUR).block(Duration.ofSeconds(10)))
                .isInstanceOfSatisfying(LaunchOutcome.LaunchFailed.class, failed -> assertThat(failed.reason())
                        .contains("no sandbox can be made"));
    }

    @Test
    void withTheOperatorsLeaveAPlainCommandRunsUnsandboxedWithOnlyItsOwnEnvironment() {
        JobSandbox sandbox = JobSandbox.probe(jobs, new JobSandbox.Settings(true, JobSandbox.Settings.DEFAULT_FIRST_UID,
                NO_BUBBLEWRAP, List.of()));
        ProcessJobRunner runner = runner(sandbox);

        assertThat(sandbox.admitCommand("demo-x")).isEmpty();
        assertThat(runner.launch("job-unsandboxed", command("pwd; env | cut -d= -f1 | sort"), HOUR)
                .block(Duration.ofSeconds(10))).isInstanceOf(LaunchOutcome.Launched.class);
        assertThat(runner.watch("job-unsandboxed").blockLast(Duration.ofSeconds(10))).isInstanceOf(JobSignal.Exited.class);

        List<String> lines = runner.logs("job-unsandboxed", null, 100).block(Duration.ofSeconds(10)).lines();
        assertThat(lines.getFirst()).isEqualTo(jobs.resolve("job-unsandboxed/work").toString());
        assertThat(Set.copyOf(lines.subList(1, lines.size()))).as("none of the broker's (the wrapper's cd adds OLDPWD)")
                .isEqualTo(Set.of("PATH", "HOME", "TMPDIR", "USER", "LOGNAME", "PWD", "OLDPWD", "GREETING"));
    }

    @Test
    void aContainerClientReadsTheJobsVariablesOnDescriptorThreeAndHasOnlyItsOwnEnvironment() {
        JobSandbox sandbox = JobSandbox.probe(jobs, JobSandbox.Settings.DEFAULT);
        ProcessJobRunner runner = runner(sandbox);
        // A stand-in for docker: what it reads as its --env-file, and its own environment.
        ProcessSpec.ContainerClient client = new ProcessSpec.ContainerClient(List.of("sh", "-c",
                "cat /dev/fd/3; echo CLIENT; env | cut -d= -f1 | sort"), Map.of("PATH", "/usr/bin:/bin",
                "DOCKER_HOST", "unix:///run/docker.sock"), "HF_TOKEN=hf_secret\nGPUBROKER_JOB_ID=job-client\n");

        assertThat(runner.launch("job-client", client, HOUR).block(Duration.ofSeconds(10)))
                .isInstanceOf(LaunchOutcome.Launched.class);
        assertThat(runner.watch("job-client").blockLast(Duration.ofSeconds(10))).isInstanceOf(JobSignal.Exited.class);

        List<String> lines = runner.logs("job-client", null, 100).block(Duration.ofSeconds(10)).lines();
        assertThat(lines.subList(0, lines.indexOf("CLIENT"))).containsExactly("HF_TOKEN=hf_secret",
                "GPUBROKER_JOB_ID=job-client");
        assertThat(Set.copyOf(lines.subList(lines.indexOf("CLIENT") + 1, lines.size())))
                .isEqualTo(Set.of("PATH", "DOCKER_HOST", "PWD"));
    }

    private ProcessJobRunner runner(JobSandbox sandbox) {
        return new ProcessJobRunner("test-host", jobs, sandbox, ProcessJobRunner.Faults.NONE, Clock.systemUTC());
    }

    private static ProcessSpec command(String script) {
        return new ProcessSpec.Command(List.of("sh", "-c", script), Map.of("GREETING", "hello"));
    }
}
