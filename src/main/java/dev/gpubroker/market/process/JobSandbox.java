package dev.gpubroker.market.process;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.gpubroker.market.JobAdmission;

/**
 * How a job's process is started on this host, and in what isolation. A plain command runs in a bubblewrap sandbox
 * ({@link BubblewrapArguments}): as its own unprivileged user when the broker runs as root (util-linux's
 * {@code setpriv} drops every privilege before bubblewrap starts), in user, mount, PID, network, IPC, UTS and cgroup
 * namespaces, seeing only its working directory and the system's programs. A container runtime's client runs as
 * it is (the container is the isolation). Either way the process is started under a small {@code sh} wrapper outside
 * the sandbox, in its own session (so that it outlives the broker), that writes the exit status and the end time into
 * the broker's record directory once the job's last process is gone: the only end the broker bills.
 *
 * <p>Whether a sandbox can be made here is probed once, at start, by making one. When it cannot, plain commands are
 * refused (before anything is spent, through {@link #admitCommand}), unless the operator set
 * {@code gpubroker.jobs.allow-unsandboxed=true}: then they run as the broker's own user, with a warning at every start.
 */
public final class JobSandbox {

    private static final Logger log = LoggerFactory.getLogger(JobSandbox.class);

    /** How a job's process is isolated: recorded at launch, so that a restarted broker knows how to read its end. */
    public enum Isolation {
        /** A plain command in bubblewrap. */
        SANDBOX,
        /** A container runtime's client; the container is the isolation. */
        CONTAINER,
        /** A plain command as the broker's user: only where the operator allowed unsandboxed jobs. */
        NONE
    }

    /**
     * @param allowUnsandboxed run plain commands without a sandbox where none can be made (off by default)
     * @param firstUid         the first of the user ids jobs run as when the broker runs as root
     * @param bubblewrap       the bwrap program; empty: the one in /usr/bin, /bin or on the PATH
     * @param hidden           the broker's own directories (data, wallets), hidden from jobs should they lie inside
     *                         a system directory the sandbox shows
     */
    public record Settings(boolean allowUnsandboxed, long firstUid, String bubblewrap, List<Path> hidden) {

        public static final long DEFAULT_FIRST_UID = 2_000_000_000L;
        public static final Settings DEFAULT = new Settings(false, DEFAULT_FIRST_UID, "", List.of());

        public Settings {
            hidden = List.copyOf(hidden);
        }
    }

    /** A started job process: how it is isolated and, when it runs as its own user, which. */
    record Started(Process process, Isolation isolation, Long uid) {
    }

    /** No sandbox can be made here and the operator did not allow jobs without one. */
    static final class Unavailable extends Exception {
        Unavailable(String message) {
            super(message, null, false, false);
        }
    }

    /** The variables the sandbox sets in every plain-command job. */
    public static final Set<String> RESERVED_VARIABLES = Set.of("PATH", "HOME", "TMPDIR", "USER", "LOGNAME");
    static final String HOW_TO_ENABLE = "install bubblewrap (Debian, Ubuntu: apt-get install bubblewrap), let "
            + "unprivileged users create user namespaces (Debian 11 and older: sysctl kernel.unprivileged_userns_clone=1; "
            + "Ubuntu 23.10 and newer: sysctl kernel.apparmor_restrict_unprivileged_userns=0, or an AppArmor profile "
            + "allowing userns for /usr/bin/bwrap), and restart the broker; or set gpubroker.jobs.allow-unsandboxed=true "
            + "to run jobs without isolation, as the broker's own user";
    private static final String JOB_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    private static final String JOB_USER = "job";
    // The wrapper's own environment: fixed, never the agent's (it runs as the broker's user).
    private static final Map<String, String> WRAPPER_ENVIRONMENT = Map.of("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
    // Where, in the wrapper's private mount namespace, the work directory is bound for the job's user to reach it:
    // bubblewrap, already that user, must be able to walk the path, and the data directory's parents may be closed.
    private static final String WORK_BIND_SOURCE = "/tmp/gpubroker-work";
    private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(10);

    private final Settings settings;
    private final Tools tools;
    private final boolean root;
    private final SandboxUsers users;
    private final Optional<String> unavailable;

    private JobSandbox(Settings settings, Tools tools, boolean root, Optional<String> unavailable) {
        this.settings = settings;
        this.tools = tools;
        this.root = root;
        this.users = SandboxUsers.startingAt(settings.firstUid());
        this.unavailable = unavailable;
    }

    /** Finds the tools and makes one sandbox, under {@code jobsDir}, to see whether jobs can have one here. */
    public static JobSandbox probe(Path jobsDir, Settings settings) {
        boolean root = effectiveUid() == 0;
        Tools tools = Tools.find(System.getenv("PATH"), settings.bubblewrap());
        Optional<String> missing = tools.missing(root);
        JobSandbox sandbox = new JobSandbox(settings, tools, root, missing);
        if (missing.isEmpty()) {
            sandbox = new JobSandbox(settings, tools, root, sandbox.tryOnce(jobsDir));
        }
        sandbox.describe();
        return sandbox;
    }

    /** Whether plain commands run in a sandbox here. */
    public boolean available() {
        return unavailable.isEmpty();
    }

    /** Why no sandbox can be made here, when none can. */
    public Optional<String> unavailableReason() {
        return unavailable;
    }

    /** Refuses a plain command where no sandbox can be made and unsandboxed jobs are not allowed. */
    public Optional<JobAdmission.Refusal> admitCommand(String provider) {
        if (unavailable.isEmpty() || settings.allowUnsandboxed()) {
            return Optional.empty();
        }
        return Optional.of(new JobAdmission.Refusal("sandbox_unavailable", "provider " + provider
                + " runs commands on this host only in a sandbox, and none can be made here (" + unavailable.get()
                + "). The operator can enable one: " + HOW_TO_ENABLE,
                "choose an offer of another provider, or cancel the reservation for a full refund; nothing was spent"));
    }

    /**
     * Starts the job's process: its working directory {@code <recordDir>/work} is made (the job's user's when it has
     * one), the wrapper started in {@code recordDir} with stdout and stderr into {@code output}, and what the process
     * reads on descriptor 3 written to it.
     */
    Started start(Path recordDir, Path output, ProcessSpec spec) throws IOException, Unavailable {
        Path work = recordDir.resolve(JobRecords.WORK);
        JobRecords.ownerOnlyDirectory(work);
        return switch (spec) {
            case ProcessSpec.Command command when unavailable.isEmpty() -> sandboxed(recordDir, output, work, command);
            case ProcessSpec.Command command when settings.allowUnsandboxed() -> unsandboxed(recordDir, output, work, command);
            case ProcessSpec.Command command -> throw new Unavailable("no sandbox can be made on this host ("
                    + unavailable.orElseThrow() + ") and unsandboxed jobs are not allowed");
            case ProcessSpec.ContainerClient client -> container(recordDir, output, client);
        };
    }

    /** A job taken back after a restart still runs as this user: nobody else gets it until it ends. */
    void hold(Long uid) {
        if (uid != null) {
            users.hold(uid);
        }
    }

    void release(Long uid) {
        if (uid != null) {
            users.release(uid);
        }
    }

    private Started sandboxed(Path recordDir, Path output, Path work, ProcessSpec.Command command) throws IOException {
        Long uid = root ? users.take() : null;
        try {
            List<String> argv = new ArrayList<>(wrapper("\"$@\" 3<&0 " + BubblewrapArguments.STATUS_FD + ">"
                    + JobRecords.SANDBOX_STATUS + " </dev/null"));
            String workSource;
            if (root) {
                Files.setAttribute(work, "unix:uid", uid.intValue());
                Files.setAttribute(work, "unix:gid", uid.intValue());
                // A private mount namespace for the wrapper's child, where the work directory is bound on a path the
                // job's user can walk; then every privilege is dropped before bubblewrap starts.
                argv.addAll(List.of(tools.unshare(), "--mount", "--propagation", "private", "--",
                        tools.sh(), "-c", tools.mount() + " -t tmpfs -o mode=0755,size=64k,nosuid,nodev,noexec gpubroker-job /tmp"
                                + " && mkdir " + WORK_BIND_SOURCE + " && " + tools.mount() + " --bind " + JobRecords.WORK + " "
                                + WORK_BIND_SOURCE + " && exec \"$@\"", "gpubroker-mounts",
                        tools.setpriv(), "--reuid=" + uid, "--regid=" + uid, "--clear-groups", "--inh-caps=-all",
                        "--bounding-set=-all", "--no-new-privs"));
                workSource = WORK_BIND_SOURCE;
            } else {
                workSource = work.toAbsolutePath().toString();
            }
            argv.addAll(List.of(tools.bwrap(), "--args", "3", "--"));
            argv.addAll(command.command());
            Map<String, String> environment = jobEnvironment(BubblewrapArguments.WORK, command.environment());
            byte[] input = BubblewrapArguments.encode(BubblewrapArguments.options(workSource, environment,
                    command.devices(), settings.hidden()));
            return new Started(startWrapper(recordDir, output, argv, WRAPPER_ENVIRONMENT, input), Isolation.SANDBOX, uid);
        } catch (IOException | RuntimeException e) {
            release(uid);
            throw e;
        }
    }

    private Started unsandboxed(Path recordDir, Path output, Path work, ProcessSpec.Command command) throws IOException {
        List<String> argv = new ArrayList<>(wrapper("(cd " + JobRecords.WORK + " && exec \"$@\") </dev/null"));
        argv.addAll(command.command());
        Map<String, String> environment = jobEnvironment(work.toAbsolutePath().toString(), command.environment());
        return new Started(startWrapper(recordDir, output, argv, environment, new byte[0]), Isolation.NONE, null);
    }

    private Started container(Path recordDir, Path output, ProcessSpec.ContainerClient client) throws IOException {
        List<String> argv = new ArrayList<>(wrapper("\"$@\" 3<&0 </dev/null"));
        argv.addAll(client.argv());
        return new Started(startWrapper(recordDir, output, argv, client.environment(),
                client.input().getBytes(StandardCharsets.UTF_8)), Isolation.CONTAINER, null);
    }

    /** The sandbox's own variables, then the provider's and the agent's (which never name the sandbox's). */
    private static Map<String, String> jobEnvironment(String home, Map<String, String> given) {
        Map<String, String> environment = new HashMap<>(Map.of("PATH", JOB_PATH, "HOME", home, "TMPDIR", "/tmp",
                "USER", JOB_USER, "LOGNAME", JOB_USER));
        given.forEach((name, value) -> {
            if (environment.putIfAbsent(name, value) != null) {
                // The environment rule refuses these names at run; one here is a bug upstream.
                throw new IllegalArgumentException("the sandbox sets " + name + " itself");
            }
        });
        return environment;
    }

    /**
     * {@code setsid sh -c <script> gpubroker-job}: the job leads its own session and process group (it is stopped as a
     * group, and does not die with the broker). After the command, the wrapper writes {@code <exit status> <now in
     * nanoseconds>} into {@code ended}, atomically, in its working directory: the record directory.
     */
    private List<String> wrapper(String run) {
        List<String> argv = new ArrayList<>();
        tools.setsid().ifPresent(argv::add);
        argv.addAll(List.of(tools.sh(), "-c", run + "; code=$?; end=$(" + tools.date() + " +%s%N); printf '%s %s\\n' "
                + "\"$code\" \"$end\" > " + JobRecords.ENDED + ".tmp && " + tools.mv() + " -f " + JobRecords.ENDED + ".tmp "
                + JobRecords.ENDED + "; exit $code", "gpubroker-job"));
        return argv;
    }

    private static Process startWrapper(Path recordDir, Path output, List<String> argv, Map<String, String> environment,
            byte[] input) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(argv)
                .directory(recordDir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(output.toFile()))
                .redirectInput(ProcessBuilder.Redirect.PIPE);
        // Exactly this environment: nothing of the broker's own (its secrets, its settings) reaches a job.
        builder.environment().clear();
        builder.environment().putAll(environment);
        Process process = builder.start();
        try (OutputStream toProcess = process.getOutputStream()) {
            toProcess.write(input);
        } catch (IOException e) {
            // It ended before reading what it was given (a bubblewrap that could not start): its end says why.
            log.debug("Process {} did not read its input: {}", process.pid(), e.toString());
        }
        return process;
    }

    /** Makes one sandbox that runs {@code true}, as a job's would be made: the only proof that jobs can have one. */
    private Optional<String> tryOnce(Path jobsDir) {
        Path recordDir = jobsDir.resolve(".sandbox-probe");
        Started started = null;
        try {
            JobRecords.ownerOnlyDirectory(jobsDir);
            deleteTree(recordDir);
            JobRecords.ownerOnlyDirectory(recordDir);
            Path output = JobRecords.freshOutput(recordDir);
            started = start(recordDir, output, new ProcessSpec.Command(List.of("true"), Map.of()));
            if (!started.process().waitFor(PROBE_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                started.process().destroyForcibly();
                return Optional.of("a sandbox running 'true' did not end within " + PROBE_TIMEOUT.toSeconds() + " s");
            }
            if (started.process().exitValue() != 0 || !JobRecords.sandboxMade(recordDir)) {
                return Optional.of("bubblewrap could not make a sandbox (exit status " + started.process().exitValue()
                        + "): " + JobRecords.lastOutputLine(recordDir));
            }
            return Optional.empty();
        } catch (IOException | RuntimeException | Unavailable e) {
            return Optional.of("making a sandbox failed: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.of("interrupted while making a sandbox");
        } finally {
            if (started != null) {
                release(started.uid());
            }
            try {
                deleteTree(recordDir);
            } catch (IOException e) {
                log.debug("Could not remove {}: {}", recordDir, e.toString());
            }
        }
    }

    private void describe() {
        if (unavailable.isEmpty()) {
            log.info("Jobs run in a bubblewrap sandbox ({}{})", tools.bwrap(), root
                    ? ", each as its own unprivileged user from uid " + users.first()
                    : ", as this broker's user in a user namespace of its own");
        } else if (!settings.allowUnsandboxed()) {
            log.warn("No job sandbox can be made on this host: {}. Plain-command jobs (every demo provider, provider local "
                    + "without an image) are refused until one can: {}", unavailable.get(), HOW_TO_ENABLE);
        }
        if (settings.allowUnsandboxed()) {
            String now = unavailable.isEmpty() ? "The sandbox works now, so it is used; if it stops working after a "
                    + "restart, jobs will run WITHOUT one."
                    : "No sandbox can be made here (" + unavailable.get() + "): plain-command jobs run WITHOUT one, as this "
                            + "broker's own user, able to read its data directory, its keys and wallets, its database "
                            + "and other jobs' files, and to reach the broker and its chain over the network.";
            log.warn("""

                    ******************************************************************************************
                    gpubroker.jobs.allow-unsandboxed=true: agents' jobs may run unsandboxed on this host.
                    {}
                    Never sell jobs to untrusted agents so. Turn it off once a sandbox works: {}
                    ******************************************************************************************""",
                    now, HOW_TO_ENABLE);
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }

    private static long effectiveUid() {
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/status"))) {
            return lines.filter(line -> line.startsWith("Uid:")).findFirst()
                    .map(line -> Long.parseLong(line.substring(4).strip().split("\\s+")[1]))
                    .orElseThrow();
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("cannot tell which user this broker runs as (/proc/self/status)", e);
        }
    }

    /** The programs a launch needs, by absolute path, found once. */
    private record Tools(String sh, Optional<String> setsid, String date, String mv, String bwrap, String setpriv,
            String unshare, String mount) {

        static Tools find(String path, String bubblewrap) {
            String bwrap = bubblewrap.isBlank() ? program("bwrap", path)
                    : Files.isExecutable(Path.of(bubblewrap)) ? Path.of(bubblewrap).toAbsolutePath().toString() : null;
            return new Tools(program("sh", path), Optional.ofNullable(program("setsid", path)), program("date", path),
                    program("mv", path), bwrap, program("setpriv", path), program("unshare", path), program("mount", path));
        }

        /** What a sandbox needs and this host lacks. */
        Optional<String> missing(boolean root) {
            if (sh == null || date == null || mv == null) {
                return Optional.of("sh, date or mv is missing");
            }
            if (bwrap == null) {
                return Optional.of("bubblewrap is not installed (no bwrap in /usr/bin, /bin or on the PATH, or not at "
                        + "gpubroker.jobs.bubblewrap)");
            }
            if (root && (setpriv == null || unshare == null || mount == null)) {
                return Optional.of("util-linux's setpriv and unshare and mount are needed to run jobs as their own users "
                        + "when the broker runs as root");
            }
            return Optional.empty();
        }

        /** The program's absolute path, the system's directories first, or null. */
        private static String program(String program, String path) {
            List<String> directories = new ArrayList<>(List.of("/usr/bin", "/bin", "/usr/sbin", "/sbin"));
            if (path != null) {
                directories.addAll(List.of(path.split(java.io.File.pathSeparator)));
            }
            return directories.stream().filter(directory -> !directory.isBlank())
                    .map(directory -> Path.of(directory, program))
                    .filter(candidate -> Files.isRegularFile(candidate) && Files.isExecutable(candidate))
                    .map(candidate -> candidate.toAbsolutePath().toString())
                    .findFirst().orElse(null);
        }
    }
}
