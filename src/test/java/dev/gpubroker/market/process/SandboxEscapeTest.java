package dev.gpubroker.market.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.gpubroker.market.JobSignal;
import dev.gpubroker.market.LaunchOutcome;

/**
 * Hostile jobs, for real, in the real sandbox: each tries what a job did on a broker without one (read the broker's
 * secrets, its database and its environment, another agent's files and processes, reach the broker and its chain) and
 * fails. The data directory here is laid out as the broker's is: its secrets beside the jobs' directories.
 */
class SandboxEscapeTest {

    private static final Duration HOUR = Duration.ofHours(1);

    @TempDir
    Path data;

    private Path jobs;
    private JobSandbox sandbox;
    private ProcessJobRunner runner;
    private final List<String> launched = new ArrayList<>();
    private final List<Process> hostProcesses = new ArrayList<>();

    @BeforeEach
    void aBrokersDataDirectory() throws IOException {
        jobs = data.resolve("jobs");
        secret(data.resolve("admin.token"), "admin-token-secret");
        secret(data.resolve("demo-agent.key"), "gpb_demo_agent_key_secret");
        secret(data.resolve("gpubroker.mv.db"), "h2-database-secret");
        Files.createDirectories(data.resolve("wallets"));
        secret(data.resolve("wallets/.password"), "wallet-password-secret");
        secret(data.resolve("wallets/UTC--2026-01-01T00-00-00Z--relayer.json"), "{\"crypto\":\"keystore-secret\"}");
        sandbox = JobSandbox.probe(jobs, JobSandbox.Settings.DEFAULT);
        assertThat(sandbox.unavailableReason()).as("bubblewrap works on this host (.ci/run installs it)").isEmpty();
        runner = new ProcessJobRunner("test-host", jobs, sandbox, ProcessJobRunner.Faults.NONE, Clock.systemUTC());
    }

    @AfterEach
    void stopEverything() {
        launched.forEach(handle -> runner.terminate(handle).block(Duration.ofSeconds(10)));
        hostProcesses.forEach(Process::destroyForcibly);
    }

    @Test
    void aJobCannotReadTheBrokersSecretsItsDatabaseOrItsData() {
        List<String> paths = List.of("admin.token", "demo-agent.key", "wallets/.password",
                "wallets/UTC--2026-01-01T00-00-00Z--relayer.json", "gpubroker.mv.db", "jobs");
        String script = paths.stream().map(path -> data.resolve(path).toString())
                .map(path -> "if cat '" + path + "' || ls '" + path + "'; then echo 'REACHED " + path + "'; "
                        + "else echo 'DENIED " + path + "'; fi")
                .collect(Collectors.joining("\n"))
                + "\nls -a /work/.. /; cat /proc/mounts";

        List<String> output = run("job-secrets", script);

        assertThat(output).filteredOn(line -> line.startsWith("DENIED ")).hasSize(paths.size());
        assertThat(String.join("\n", output)).doesNotContain("REACHED", "secret");
    }

    @Test
    void aJobSeesOnlyTheEnvironmentItWasGivenNeverTheBrokers() {
        List<String> output = run("job-environment", "echo ENV; env | cut -d= -f1 | sort; echo ALL;"
                + " cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n' | cut -d= -f1 | sort -u");

        int all = output.indexOf("ALL");
        Set<String> own = Set.copyOf(output.subList(output.indexOf("ENV") + 1, all));
        Set<String> anywhere = Set.copyOf(output.subList(all + 1, output.size()));
        assertThat(own).as("exactly the sandbox's variables and the job's own (the shell adds PWD)")
                .isEqualTo(Set.of("PATH", "HOME", "TMPDIR", "USER", "LOGNAME", "GREETING", "PWD"));
        Set<String> brokers = new java.util.HashSet<>(System.getenv().keySet());
        brokers.removeAll(Set.of("PATH", "HOME", "TMPDIR", "USER", "LOGNAME", "PWD"));
        assertThat(brokers).as("the broker has variables of its own").isNotEmpty();
        assertThat(anywhere).as("no process the job can see holds any of the broker's variables")
                .doesNotContainAnyElementsOf(brokers);
    }

    @Test
    void aJobSeesOnlyItsOwnProcessesNeitherTheBrokerNorItsChainNorAnotherJob() throws Exception {
        String marker = marker();
        // The chain's node as the broker starts it, and another agent's job, both running on this host.
        hostProcesses.add(new ProcessBuilder("bash", "-c", "exec -a anvil-" + marker + " sleep 600").start());
        launch("job-other", "exec sleep " + marker);
        await().atMost(Duration.ofSeconds(10)).until(() -> running("sleep " + marker));
        long otherJobsPid = ProcessHandle.allProcesses()
                .filter(process -> process.info().commandLine().orElse("").contains("sleep " + marker))
                .findFirst().orElseThrow().pid();

        List<String> output = run("job-looking", "for process in /proc/[0-9]*; do echo \"PROCESS $(tr '\\0' ' ' < "
                + "$process/cmdline)\"; done; kill -9 " + otherJobsPid + " " + ProcessHandle.current().pid()
                + " && echo KILLED || echo NO-SUCH-PROCESS; cat /proc/" + ProcessHandle.current().pid() + "/environ"
                + " && echo BROKER-ENVIRONMENT");

        List<String> processes = output.stream().filter(line -> line.startsWith("PROCESS ")).toList();
        assertThat(processes).as("bubblewrap's init, the job's shell, its tr").hasSizeLessThanOrEqualTo(4)
                .noneMatch(line -> line.contains(marker) || line.contains("java") || line.contains("anvil"));
        assertThat(output).contains("NO-SUCH-PROCESS").doesNotContain("KILLED", "BROKER-ENVIRONMENT");
        assertThat(running("sleep " + marker)).as("the other job still runs").isTrue();
    }

    @Test
    void oneAgentsJobCannotListReadOrWriteAnothersFiles() throws Exception {
        launch("job-victim", "echo victim-secret > /work/model.bin; echo victim-output; exec sleep 600");
        Path victimRecords = jobs.resolve("job-victim");
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(victimRecords.resolve("work/model.bin")));
        String script = List.of(victimRecords.resolve("work"), victimRecords.resolve("work/model.bin"),
                        victimRecords.resolve("output.log"), victimRecords, jobs).stream()
                .map(Path::toString)
                .map(path -> "ls '" + path + "' && echo 'LISTED " + path + "'; cat '" + path + "' && echo 'READ " + path
                        + "'; echo planted >> '" + path + "' && echo 'WROTE " + path + "'; echo planted > '" + path
                        + "/planted' && echo 'PLANTED " + path + "'")
                .collect(Collectors.joining("\n"));

        List<String> output = run("job-thief", script + "\nls -a /work /work/..");

        assertThat(String.join("\n", output)).doesNotContain("LISTED", "READ", "WROTE", "PLANTED", "victim-secret",
                "victim-output", "model.bin\n");
        assertThat(Files.readString(victimRecords.resolve("work/model.bin"))).isEqualTo("victim-secret\n");
        assertThat(Files.readString(victimRecords.resolve("output.log"))).isEqualTo("victim-output\n");
        try (var files = Files.list(victimRecords.resolve("work"))) {
            assertThat(files.map(path -> path.getFileName().toString())).containsExactly("model.bin");
        }
    }

    @Test
    void aJobHasNoNetworkPathToTheBrokerOrItsChain() throws Exception {
        AtomicInteger accepted = new AtomicInteger();
        try (ServerSocket broker = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread.ofVirtual().start(() -> {
                while (!broker.isClosed()) {
                    try (Socket connection = broker.accept()) {
                        accepted.incrementAndGet();
                    } catch (IOException closed) {
                        return;
                    }
                }
            });
            int port = broker.getLocalPort();

            List<String> output = run("job-network", "bash -c 'echo POST > /dev/tcp/127.0.0.1/" + port + "'"
                    + " && echo CONNECTED || echo NO-CONNECTION; python3 -c \"import socket; "
                    + "socket.create_connection(('127.0.0.1', " + port + "), 2)\" && echo CONNECTED || echo NO-CONNECTION;"
                    + " echo INTERFACES; tail -n +3 /proc/net/dev | cut -d: -f1");

            assertThat(output).doesNotContain("CONNECTED").contains("NO-CONNECTION");
            assertThat(output.subList(output.indexOf("INTERFACES") + 1, output.size()))
                    .as("no interface but its own loopback").allMatch(line -> line.strip().equals("lo"));
            assertThat(accepted).hasValue(0);
        }
    }

    @Test
    void aJobRunsAsAnUnprivilegedUserOfItsOwnWithNoCapabilitiesNoInheritedFilesAndNoNewNamespaces() throws Exception {
        launch("job-neighbour", "exec sleep 600");
        List<String> output = run("job-privileges", "echo \"UID $(id -u)\"; grep CapEff /proc/self/status;"
                + " ls /proc/self/fd; unshare --user true && echo NAMESPACE-MADE || echo NO-NAMESPACE;"
                + " touch /usr/planted && echo WROTE-USR || echo USR-READ-ONLY");

        assertThat(output).contains("CapEff:\t0000000000000000", "NO-NAMESPACE", "USR-READ-ONLY")
                .doesNotContain("NAMESPACE-MADE", "WROTE-USR");
        assertThat(output.subList(output.indexOf("CapEff:\t0000000000000000") + 1, output.indexOf("NO-NAMESPACE")))
                .filteredOn(line -> line.matches("[0-9]+"))
                .as("descriptors: stdin, stdout, stderr, and the one ls reads /proc/self/fd with").containsExactly("0", "1",
                        "2", "3");
        if (isRoot()) {
            long uid = Long.parseLong(output.stream().filter(line -> line.startsWith("UID ")).findFirst().orElseThrow()
                    .substring(4));
            assertThat(uid).as("not root, and none of the host's accounts").isGreaterThanOrEqualTo(2_000_000_000L);
            long neighboursUid = (Integer) Files.getAttribute(jobs.resolve("job-neighbour/work"), "unix:uid");
            assertThat(neighboursUid).as("each job has a user of its own").isNotEqualTo(uid)
                    .isGreaterThanOrEqualTo(2_000_000_000L);
        }
    }

    @Test
    void theBrokersDataIsHiddenEvenWhereItLiesInsideADirectoryJobsSee() throws Exception {
        // A broker installed under /opt, which the sandbox shows read-only (GPU hosts keep their Python stacks there).
        assumeThat(Files.isWritable(Path.of("/opt"))).as("this test makes a directory in /opt").isTrue();
        Path installed = Files.createTempDirectory(Path.of("/opt"), "gpubroker-test-");
        try {
            Path brokerData = Files.createDirectories(installed.resolve("data"));
            Files.writeString(brokerData.resolve("gpubroker.mv.db"), "h2-database-secret");
            Files.setPosixFilePermissions(installed, PosixFilePermissions.fromString("rwxr-xr-x"));
            JobSandbox hiding = JobSandbox.probe(jobs, new JobSandbox.Settings(false,
                    JobSandbox.Settings.DEFAULT_FIRST_UID, "", List.of(brokerData)));
            runner = new ProcessJobRunner("test-host", jobs, hiding, ProcessJobRunner.Faults.NONE, Clock.systemUTC());

            List<String> output = run("job-opt", "ls /opt > /dev/null && echo SEES-OPT; ls -a " + installed + "; cat "
                    + brokerData.resolve("gpubroker.mv.db") + " || echo HIDDEN");

            assertThat(output).contains("SEES-OPT", "HIDDEN").doesNotContain("h2-database-secret");
        } finally {
            try (var paths = Files.walk(installed)) {
                for (Path path : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(path);
                }
            }
        }
    }

    @Test
    void theBrokersRecordsOfAJobAreOwnerOnly() throws Exception {
        run("job-modes", "echo hello");

        Path records = jobs.resolve("job-modes");
        assertThat(Files.getPosixFilePermissions(jobs)).isEqualTo(PosixFilePermissions.fromString("rwx------"));
        assertThat(Files.getPosixFilePermissions(records)).isEqualTo(PosixFilePermissions.fromString("rwx------"));
        assertThat(Files.getPosixFilePermissions(records.resolve("output.log")))
                .isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(Files.getPosixFilePermissions(records.resolve("work")))
                .isEqualTo(PosixFilePermissions.fromString("rwx------"));
    }

    private List<String> run(String handle, String script) {
        launch(handle, script);
        JobSignal last = runner.watch(handle).last().block(Duration.ofSeconds(30));
        assertThat(last).isInstanceOf(JobSignal.Exited.class);
        return runner.logs(handle, null, 1000).block(Duration.ofSeconds(10)).lines();
    }

    private void launch(String handle, String script) {
        launched.add(handle);
        assertThat(runner.launch(handle, new ProcessSpec.Command(List.of("sh", "-c", script), Map.of("GREETING", "hello")),
                HOUR).block(Duration.ofSeconds(10))).isInstanceOf(LaunchOutcome.Launched.class);
    }

    private static void secret(Path file, String content) throws IOException {
        Files.writeString(file, content);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    }

    private static String marker() {
        return "600." + ThreadLocalRandom.current().nextInt(100_000, 999_999);
    }

    private static boolean running(String commandLine) {
        return ProcessHandle.allProcesses().anyMatch(process -> process.info().commandLine()
                .map(line -> line.contains(commandLine)).orElse(false));
    }

    private static boolean isRoot() throws IOException {
        return Arrays.stream(Files.readString(Path.of("/proc/self/status")).split("\n"))
                .filter(line -> line.startsWith("Uid:")).findFirst().orElseThrow().split("\\s+")[2].equals("0");
    }
}
