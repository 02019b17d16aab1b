package dev.gpubroker.market.process;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Properties;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The broker's records of one job, in its record directory {@code <jobs>/<handle>/} (the broker's, owner-only): the
 * launch ({@code launch.properties}), the output ({@code output.log}), and what the wrapper observed outside the
 * sandbox when the job's last process was gone ({@code ended}: exit status and end time) and whether bubblewrap made
 * the sandbox at all ({@code sandbox-status.json}). The job's own working directory ({@code work/}) is the only part
 * of it the job can reach; nothing the job writes there is ever read as a record.
 */
final class JobRecords {

    static final String LAUNCH = "launch.properties";
    static final String OUTPUT = "output.log";
    static final String ENDED = "ended";
    static final String SANDBOX_STATUS = "sandbox-status.json";
    static final String WORK = "work";

    private static final Logger log = LoggerFactory.getLogger(JobRecords.class);
    private static final java.nio.file.attribute.FileAttribute<?> OWNER_ONLY_DIRECTORY =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));

    private JobRecords() {
    }

    /** Written once the process runs, so that a restarted broker finds it again. {@code uid} is null when the job runs as the broker's user. */
    record LaunchRecord(long pid, Instant processStart, Instant startedAt, Duration maxDuration,
            JobSandbox.Isolation isolation, Long uid) {

        boolean isSameProcessStart(Instant observed) {
            // The OS reports a process's start to the clock tick; a reused pid starts at another time.
            return processStart == null || Duration.between(processStart, observed).abs().compareTo(Duration.ofSeconds(2)) < 0;
        }
    }

    /** What the wrapper wrote when the job's last process was gone. */
    record EndRecord(int exitCode, Instant at) {
    }

    /** Makes {@code dir} (and missing parents) and leaves it the broker's alone: owner-only. */
    static void ownerOnlyDirectory(Path dir) throws IOException {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectories(dir.getParent());
            try {
                Files.createDirectory(dir, OWNER_ONLY_DIRECTORY);
            } catch (java.nio.file.FileAlreadyExistsException raced) {
                // Another launch made it meanwhile; its mode is set below.
            }
        }
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    }

    /** An empty owner-only output file (the process's stdout and stderr are redirected into it). */
    static Path freshOutput(Path recordDir) throws IOException {
        Path output = recordDir.resolve(OUTPUT);
        Files.deleteIfExists(output);
        Files.createFile(output, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        return output;
    }

    static void writeLaunch(Path recordDir, LaunchRecord launch) throws IOException {
        Properties record = new Properties();
        record.setProperty("pid", Long.toString(launch.pid()));
        if (launch.processStart() != null) {
            record.setProperty("processStart", launch.processStart().toString());
        }
        record.setProperty("startedAt", launch.startedAt().toString());
        record.setProperty("maxDurationSeconds", Long.toString(launch.maxDuration().toSeconds()));
        record.setProperty("isolation", launch.isolation().name());
        if (launch.uid() != null) {
            record.setProperty("uid", Long.toString(launch.uid()));
        }
        Path temporary = recordDir.resolve(LAUNCH + ".tmp");
        try (var out = Files.newBufferedWriter(temporary, StandardCharsets.UTF_8)) {
            record.store(out, "written by GPU Broker at launch; read back after a restart");
        }
        Files.move(temporary, recordDir.resolve(LAUNCH), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    static Optional<LaunchRecord> readLaunch(Path recordDir) {
        Path file = recordDir.resolve(LAUNCH);
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        try (var in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            Properties record = new Properties();
            record.load(in);
            String processStart = record.getProperty("processStart");
            String uid = record.getProperty("uid");
            return Optional.of(new LaunchRecord(Long.parseLong(record.getProperty("pid")),
                    processStart == null ? null : Instant.parse(processStart), Instant.parse(record.getProperty("startedAt")),
                    Duration.ofSeconds(Long.parseLong(record.getProperty("maxDurationSeconds"))),
                    JobSandbox.Isolation.valueOf(record.getProperty("isolation", JobSandbox.Isolation.NONE.name())),
                    uid == null ? null : Long.valueOf(uid)));
        } catch (IOException | RuntimeException e) {
            log.warn("Unreadable launch record {}: {}", file, e.toString());
            return Optional.empty();
        }
    }

    /** Before a launch: an end written for an earlier start of this job (one a crash left without a launch record) is not this one's. */
    static void forgetEnd(Path recordDir) throws IOException {
        Files.deleteIfExists(recordDir.resolve(ENDED));
        Files.deleteIfExists(recordDir.resolve(SANDBOX_STATUS));
    }

    /** The wrapper's {@code <exit status> <end in nanoseconds since the epoch>}, or empty when it wrote none. */
    static Optional<EndRecord> readEnd(Path recordDir) {
        Path file = recordDir.resolve(ENDED);
        try {
            if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
                return Optional.empty();
            }
            String[] fields = Files.readString(file, StandardCharsets.US_ASCII).strip().split(" ");
            long nanos = Long.parseLong(fields[1]);
            return Optional.of(new EndRecord(Integer.parseInt(fields[0]),
                    Instant.ofEpochSecond(Math.floorDiv(nanos, 1_000_000_000L), Math.floorMod(nanos, 1_000_000_000L))));
        } catch (IOException | RuntimeException e) {
            log.warn("Unreadable end record {}: {}", file, e.toString());
            return Optional.empty();
        }
    }

    /** The sandbox's init (PID 1 of the job's namespace) as the host sees it, and that namespace. */
    record SandboxInit(long pid, long pidNamespace) {
    }

    private static final java.util.regex.Pattern CHILD_PID = java.util.regex.Pattern.compile("\"child-pid\": *([0-9]+)");
    private static final java.util.regex.Pattern PID_NAMESPACE =
            java.util.regex.Pattern.compile("\"pid-namespace\": *([0-9]+)");

    /** Whether bubblewrap reported the sandbox made (it writes {@code child-pid} once its init runs). */
    static boolean sandboxMade(Path recordDir) {
        return sandboxInit(recordDir).isPresent();
    }

    /** The sandbox's init, from what bubblewrap wrote on its status descriptor once it made the sandbox. */
    static Optional<SandboxInit> sandboxInit(Path recordDir) {
        try {
            String status = Files.readString(recordDir.resolve(SANDBOX_STATUS), StandardCharsets.UTF_8);
            java.util.regex.Matcher pid = CHILD_PID.matcher(status);
            java.util.regex.Matcher namespace = PID_NAMESPACE.matcher(status);
            return pid.find() && namespace.find()
                    ? Optional.of(new SandboxInit(Long.parseLong(pid.group(1)), Long.parseLong(namespace.group(1))))
                    : Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** The last line of the output, for a reason (bubblewrap's own error, when it could not make the sandbox). */
    static String lastOutputLine(Path recordDir) {
        try (var file = new java.io.RandomAccessFile(recordDir.resolve(OUTPUT).toFile(), "r")) {
            // The end of it only: the output of a job can be large.
            long from = Math.max(0, file.length() - 1024);
            byte[] tail = new byte[(int) (file.length() - from)];
            file.seek(from);
            file.readFully(tail);
            String[] lines = new String(tail, StandardCharsets.UTF_8).strip().split("\n");
            return lines[lines.length - 1].strip();
        } catch (IOException e) {
            return "";
        }
    }
}
