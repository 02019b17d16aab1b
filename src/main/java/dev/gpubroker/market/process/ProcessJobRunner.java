package dev.gpubroker.market.process;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.gpubroker.market.JobSignal;
import dev.gpubroker.market.LaunchOutcome;
import dev.gpubroker.market.LogPage;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;

/**
 * Runs jobs as processes on this host, for the providers that execute locally (the demo marketplace, this host's
 * GPUs). Each job gets its own working directory {@code <jobs>/<handle>} with its output in {@code output.log} and a
 * record of the launch ({@code launch.properties}); the command runs under a small shell wrapper that writes its exit
 * status to {@code exit-code}. That is what lets a restarted broker take a job back instead of killing it: a process
 * still alive is followed again, one that ended while the broker was down is reported with its real exit status and
 * end time, and only a job with no trace at all counts as lost.
 */
public final class ProcessJobRunner {

    private static final Logger log = LoggerFactory.getLogger(ProcessJobRunner.class);
    private static final int LOG_PAGE_MAX = 1000;
    private static final String LAUNCH_RECORD = "launch.properties";
    private static final String EXIT_CODE = "exit-code";
    private static final int TIMED_OUT_EXIT_CODE = 137;
    // The wrapper keeps the command's own argv intact ("$@") and records how it ended, even when nobody is watching.
    // Where setsid exists, each job leads its own process group, so that stopping it stops everything it started, even
    // a child forked while the stop was under way.
    private static final java.util.Optional<Path> SETSID = java.util.stream.Stream.of("/usr/bin/setsid", "/bin/setsid")
            .map(Path::of).filter(Files::isExecutable).findFirst();
    private static final List<String> WRAPPER = List.of("/bin/sh", "-c",
            "\"$@\"; code=$?; echo $code > " + EXIT_CODE + ".tmp && mv " + EXIT_CODE + ".tmp " + EXIT_CODE + "; exit $code",
            "gpubroker-job");

    /** Faults a simulated provider injects; a real one has none. */
    public record Faults(double launchFailureProbability, double nodeLossProbability, Duration nodeLossAfter) {

        public static final Faults NONE = new Faults(0, 0, Duration.ZERO);
    }

    /** What to execute for one launch: the argv and the full environment the provider chose. */
    public record ProcessSpec(List<String> argv, Map<String, String> environment) {

        public ProcessSpec {
            argv = List.copyOf(argv);
            environment = Map.copyOf(environment);
            if (argv.isEmpty()) {
                throw new IllegalArgumentException("a command has at least its program");
            }
        }

        @Override
        public String toString() {
            return "ProcessSpec[argv=" + argv + ", environment=" + environment.keySet() + "]";
        }
    }

    private final String provider;
    private final Path jobsDir;
    private final Faults faults;
    private final Clock clock;
    private final Map<String, RunningJob> jobs = new ConcurrentHashMap<>();

    public ProcessJobRunner(String provider, Path jobsDir, Faults faults, Clock clock) {
        this.provider = provider;
        this.jobsDir = jobsDir;
        this.faults = faults;
        this.clock = clock;
    }

    /** A job's process and what has been reported about it. */
    private static final class RunningJob {
        final Sinks.Many<JobSignal> signals = Sinks.many().replay().all();
        final Path output;
        volatile ProcessHandle process;
        volatile String ending;

        RunningJob(Path output) {
            this.output = output;
        }

        synchronized boolean end(String how) {
            if (ending != null) {
                return false;
            }
            ending = how;
            return true;
        }

        /** Signals come from several threads (exit, timers, terminate): one at a time into the sink. */
        synchronized void signal(JobSignal signal) {
            signals.tryEmitNext(signal);
        }

        synchronized void complete() {
            signals.tryEmitComplete();
        }
    }

    /** Starts the job. Idempotent by handle, across restarts too: a job launched before is taken back, not run twice. */
    public Mono<LaunchOutcome> launch(String handle, ProcessSpec spec, Duration maxDuration) {
        return Mono.fromCallable(() -> {
          synchronized (this) {
            if (jobs.containsKey(handle) || adopt(handle).isPresent()) {
                return (LaunchOutcome) new LaunchOutcome.Launched(handle);
            }
            if (ThreadLocalRandom.current().nextDouble() < faults.launchFailureProbability()) {
                return new LaunchOutcome.LaunchFailed("the node did not come up (simulated launch failure at " + provider + ")");
            }
            Path workDir = workDir(handle);
            Files.createDirectories(workDir);
            RunningJob job = new RunningJob(workDir.resolve("output.log"));
            List<String> argv = new ArrayList<>();
            SETSID.ifPresent(setsid -> argv.add(setsid.toString()));
            argv.addAll(WRAPPER);
            argv.addAll(spec.argv());
            ProcessBuilder builder = new ProcessBuilder(argv)
                    .directory(workDir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(job.output.toFile());
            builder.environment().putAll(spec.environment());
            Process process;
            try {
                process = builder.start();
            } catch (IOException e) {
                return new LaunchOutcome.LaunchFailed("the command could not be started: " + e.getMessage());
            }
            Instant startedAt = clock.instant();
            writeLaunchRecord(workDir, process.toHandle(), startedAt, maxDuration);
            job.process = process.toHandle();
            jobs.put(handle, job);
            job.signal(new JobSignal.Running(startedAt));
            Mono.fromFuture(process.onExit()).subscribe(exited -> ended(job, exited.exitValue()));
            armMaxDuration(job, startedAt.plus(maxDuration));
            if (ThreadLocalRandom.current().nextDouble() < faults.nodeLossProbability()) {
                Mono.delay(faults.nodeLossAfter(), Schedulers.boundedElastic()).subscribe(tick -> {
                    if (job.end("lost")) {
                        job.signal(new JobSignal.Lost(clock.instant(),
                                "the node running the job stopped answering (simulated node loss at " + provider + ")"));
                        kill(job);
                    }
                });
            }
            log.info("Provider {} started job {} (pid {})", provider, handle, process.pid());
            return new LaunchOutcome.Launched(handle);
          }
        }).subscribeOn(Schedulers.boundedElastic());
    }

    /** The job's signals from the start: a job this runner does not hold in memory is taken back from its files. */
    public Flux<JobSignal> watch(String handle) {
        return Mono.fromCallable(() -> Optional.ofNullable(jobs.get(handle)).or(() -> adopt(handle)))
                .subscribeOn(Schedulers.boundedElastic())
                .flatMapMany(found -> found.<Flux<JobSignal>>map(job -> job.signals.asFlux())
                        .orElseGet(() -> Flux.just(new JobSignal.Lost(clock.instant(), "provider " + provider
                                + " has no trace of job " + handle + " (it was never started)"))));
    }

    /** Stops the job. Idempotent: an ended or unknown job is left alone. */
    public Mono<Void> terminate(String handle) {
        return Mono.fromRunnable(() -> {
            RunningJob job = Optional.ofNullable(jobs.get(handle)).or(() -> adopt(handle)).orElse(null);
            if (job != null && job.end("terminated")) {
                job.signal(new JobSignal.Terminated(clock.instant()));
                kill(job);
            }
        }).subscribeOn(Schedulers.boundedElastic()).then();
    }

    public Mono<LogPage> logs(String handle, String cursor, int limit) {
        return Mono.fromCallable(() -> {
            Path output = workDir(handle).resolve("output.log");
            if (!Files.isRegularFile(output)) {
                return new LogPage(List.of(), null);
            }
            // Cursors are line offsets this method handed out; one past any real output just reads nothing.
            int from = cursor == null ? 0 : cursor.length() > 9 ? Integer.MAX_VALUE : Integer.parseInt(cursor);
            int pageSize = Math.min(Math.max(limit, 1), LOG_PAGE_MAX);
            List<String> lines = new ArrayList<>(pageSize);
            try (Stream<String> all = Files.lines(output, StandardCharsets.UTF_8)) {
                all.skip(from).limit(pageSize).forEach(lines::add);
            }
            RunningJob job = jobs.get(handle);
            boolean more = lines.size() == pageSize || (job != null && job.ending == null);
            return new LogPage(lines, more ? Integer.toString(from + lines.size()) : null);
        }).subscribeOn(Schedulers.boundedElastic())
                .onErrorMap(IOException.class, e -> new UncheckedIOException("could not read the output of " + handle, e));
    }

    private Path workDir(String handle) {
        return jobsDir.resolve(handle);
    }

    /**
     * Takes back a job launched by an earlier life of this broker, from its launch record: still running (same pid,
     * same process start), ended with an exit status the wrapper wrote, or gone without one (lost).
     */
    private synchronized Optional<RunningJob> adopt(String handle) {
        RunningJob known = jobs.get(handle);
        if (known != null) {
            return Optional.of(known);
        }
        Path workDir = workDir(handle);
        Optional<LaunchRecord> record = readLaunchRecord(workDir);
        if (record.isEmpty()) {
            return Optional.empty();
        }
        LaunchRecord launch = record.get();
        RunningJob job = new RunningJob(workDir.resolve("output.log"));
        job.signal(new JobSignal.Running(launch.startedAt()));
        Optional<ProcessHandle> alive = ProcessHandle.of(launch.pid()).filter(ProcessHandle::isAlive)
                .filter(process -> process.info().startInstant().map(launch::isSameProcessStart).orElse(false));
        alive.ifPresent(process -> job.process = process);
        // Published only once it knows its process: terminate reads the map without this lock, and a job it finds
        // without a process would be marked terminated but left running.
        jobs.put(handle, job);
        if (alive.isPresent()) {
            log.warn("Provider {}: job {} (pid {}) outlived a restart of the broker: following it again", provider, handle,
                    launch.pid());
            alive.get().onExit().thenRun(() -> ended(job, null));
            armMaxDuration(job, launch.startedAt().plus(launch.maxDuration()));
        } else {
            ended(job, null);
        }
        return Optional.of(job);
    }

    /** The process is gone: report how it ended, from its exit value or from what the wrapper wrote. */
    private void ended(RunningJob job, Integer exitValue) {
        if (job.end("exited")) {
            Path exitFile = job.output.resolveSibling(EXIT_CODE);
            Optional<Integer> recorded = readExitCode(exitFile);
            Integer code = recorded.orElse(exitValue);
            if (code == null) {
                job.signal(new JobSignal.Lost(clock.instant(), "the job's process on " + provider
                        + " ended without an exit status (stopped outside the broker)"));
            } else {
                Instant at = recorded.isPresent() ? lastModified(exitFile).orElse(clock.instant()) : clock.instant();
                job.signal(new JobSignal.Exited(at, code, false));
            }
        }
        job.complete();
    }

    private void armMaxDuration(RunningJob job, Instant deadline) {
        Duration left = Duration.between(clock.instant(), deadline);
        Mono.delay(left.isNegative() ? Duration.ZERO : left, Schedulers.boundedElastic()).subscribe(tick -> {
            if (job.end("timed out")) {
                job.signal(new JobSignal.Exited(clock.instant(), TIMED_OUT_EXIT_CODE, true));
                kill(job);
            }
        });
    }

    private static void kill(RunningJob job) {
        ProcessHandle process = job.process;
        if (process == null) {
            return;
        }
        List<ProcessHandle> started = process.descendants().toList();
        // The leader first, so that it forks nothing more; then its group, which holds whatever it started even after
        // the list above was taken (a pid stays reserved while its group has members, so the group is still this job's).
        process.destroyForcibly();
        try {
            process.onExit().get(2, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            log.warn("Process {} did not end at once after SIGKILL: {}", process.pid(), e.toString());
        }
        if (SETSID.isPresent()) {
            killGroup(process.pid());
        }
        started.forEach(ProcessHandle::destroyForcibly);
    }

    /** SIGKILL to the job's whole process group (its leader's pid names the group). */
    private static void killGroup(long leader) {
        try {
            new ProcessBuilder("kill", "-KILL", "--", "-" + leader).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor(5, java.util.concurrent.TimeUnit.SECONDS);
        } catch (IOException e) {
            log.warn("Could not signal process group {}: {}", leader, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Written once the process runs, so that a restarted broker finds it again. */
    private record LaunchRecord(long pid, Instant processStart, Instant startedAt, Duration maxDuration) {

        boolean isSameProcessStart(Instant observed) {
            // The OS reports a process's start to the clock tick; a reused pid starts at another time.
            return processStart == null || Duration.between(processStart, observed).abs().compareTo(Duration.ofSeconds(2)) < 0;
        }
    }

    private static void writeLaunchRecord(Path workDir, ProcessHandle process, Instant startedAt, Duration maxDuration)
            throws IOException {
        Properties record = new Properties();
        record.setProperty("pid", Long.toString(process.pid()));
        process.info().startInstant().ifPresent(start -> record.setProperty("processStart", start.toString()));
        record.setProperty("startedAt", startedAt.toString());
        record.setProperty("maxDurationSeconds", Long.toString(maxDuration.toSeconds()));
        Path temporary = workDir.resolve(LAUNCH_RECORD + ".tmp");
        try (var out = Files.newBufferedWriter(temporary, StandardCharsets.UTF_8)) {
            record.store(out, "written by GPU Broker at launch; read back after a restart");
        }
        Files.move(temporary, workDir.resolve(LAUNCH_RECORD), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    private static Optional<LaunchRecord> readLaunchRecord(Path workDir) {
        Path file = workDir.resolve(LAUNCH_RECORD);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try (var in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            Properties record = new Properties();
            record.load(in);
            String processStart = record.getProperty("processStart");
            return Optional.of(new LaunchRecord(Long.parseLong(record.getProperty("pid")),
                    processStart == null ? null : Instant.parse(processStart), Instant.parse(record.getProperty("startedAt")),
                    Duration.ofSeconds(Long.parseLong(record.getProperty("maxDurationSeconds")))));
        } catch (IOException | RuntimeException e) {
            log.warn("Unreadable launch record {}: {}", file, e.toString());
            return Optional.empty();
        }
    }

    private static Optional<Integer> readExitCode(Path file) {
        try {
            return Files.isRegularFile(file) ? Optional.of(Integer.parseInt(Files.readString(file).strip())) : Optional.empty();
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static Optional<Instant> lastModified(Path file) {
        try {
            return Optional.of(Files.getLastModifiedTime(file).toInstant());
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
