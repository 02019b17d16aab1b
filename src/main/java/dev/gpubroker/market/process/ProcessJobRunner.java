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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.gpubroker.market.JobSignal;
import dev.gpubroker.market.JobStatus;
import dev.gpubroker.market.LaunchOutcome;
import dev.gpubroker.market.LogPage;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;

/**
 * Runs jobs as processes on this host, for the providers that execute locally (the demo marketplace, this host's
 * GPUs). Each job has a record directory {@code <jobs>/<handle>/}, the broker's alone: its output ({@code output.log}),
 * the launch ({@code launch.properties}), and what the wrapper observed outside the sandbox when the job's last process
 * was gone ({@code ended}: exit status and end time); the job itself sees only {@code work/} inside it
 * ({@link JobSandbox}, {@link JobRecords}). The bill comes from these observations alone: the start is taken here when
 * the process starts, the end by the wrapper, or here when the broker stops the job. That is also what lets a restarted
 * broker take a job back instead of killing it: a process still alive is followed again, one that ended while the
 * broker was down is reported with its real exit status and end time, and only a job with no trace at all counts as
 * lost.
 */
public final class ProcessJobRunner {

    private static final Logger log = LoggerFactory.getLogger(ProcessJobRunner.class);
    private static final int LOG_PAGE_MAX = 1000;
    private static final int TIMED_OUT_EXIT_CODE = 137;
    private static final Duration GONE_WAIT_MAX = Duration.ofSeconds(5);
    private static final Duration SANDBOX_START_WAIT_MAX = Duration.ofSeconds(2);

    /** Faults a simulated provider injects; a real one has none. */
    public record Faults(double launchFailureProbability, double nodeLossProbability, Duration nodeLossAfter) {

        public static final Faults NONE = new Faults(0, 0, Duration.ZERO);
    }

    private final String provider;
    private final Path jobsDir;
    private final JobSandbox sandbox;
    private final Faults faults;
    private final Clock clock;
    private final Map<String, RunningJob> jobs = new ConcurrentHashMap<>();

    public ProcessJobRunner(String provider, Path jobsDir, JobSandbox sandbox, Faults faults, Clock clock) {
        this.provider = provider;
        this.jobsDir = jobsDir;
        this.sandbox = sandbox;
        this.faults = faults;
        this.clock = clock;
    }

    /** A job's process and what has been reported about it. Whoever ends it reports its end and completes it. */
    private static final class RunningJob {
        final Sinks.Many<JobSignal> signals = Sinks.many().replay().all();
        final Path recordDir;
        final JobSandbox.Isolation isolation;
        final Long uid;
        volatile ProcessHandle process;
        /** Taken back from its launch record: not this JVM's child, so the JDK learns of its exit only by polling. */
        volatile boolean adopted;
        volatile String ending;
        volatile Instant startedAt;
        volatile JobSignal end;

        RunningJob(Path recordDir, JobSandbox.Isolation isolation, Long uid) {
            this.recordDir = recordDir;
            this.isolation = isolation;
            this.uid = uid;
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
            if (signal instanceof JobSignal.Running running) {
                startedAt = running.at();
            } else {
                end = signal;
            }
            signals.tryEmitNext(signal);
        }

        JobStatus status() {
            JobSignal ended = end;
            Instant started = startedAt;
            return ended != null ? new JobStatus.Ended(started, ended)
                    : started != null ? new JobStatus.Running(started) : new JobStatus.Starting();
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
            JobRecords.ownerOnlyDirectory(jobsDir);
            Path recordDir = recordDir(handle);
            JobRecords.ownerOnlyDirectory(recordDir);
            Path output = JobRecords.freshOutput(recordDir);
            JobRecords.forgetEnd(recordDir);
            JobSandbox.Started started;
            try {
                started = sandbox.start(recordDir, output, spec);
            } catch (JobSandbox.Unavailable e) {
                return new LaunchOutcome.LaunchFailed(e.getMessage());
            } catch (IOException e) {
                return new LaunchOutcome.LaunchFailed("the command could not be started: " + e.getMessage());
            }
            Instant startedAt = clock.instant();
            ProcessHandle process = started.process().toHandle();
            RunningJob job = new RunningJob(recordDir, started.isolation(), started.uid());
            job.process = process;
            JobRecords.writeLaunch(recordDir, new JobRecords.LaunchRecord(process.pid(),
                    process.info().startInstant().orElse(null), startedAt, maxDuration, started.isolation(), started.uid()));
            jobs.put(handle, job);
            job.signal(new JobSignal.Running(startedAt));
            Mono.fromFuture(started.process().onExit()).subscribe(exited -> ended(job, exited.exitValue()));
            armMaxDuration(job, startedAt.plus(maxDuration));
            if (ThreadLocalRandom.current().nextDouble() < faults.nodeLossProbability()) {
                Mono.delay(faults.nodeLossAfter(), Schedulers.boundedElastic()).subscribe(tick -> {
                    if (job.end("lost")) {
                        kill(job);
                        job.signal(new JobSignal.Lost(clock.instant(),
                                "the node running the job stopped answering (simulated node loss at " + provider + ")"));
                        finish(job);
                    }
                });
            }
            log.info("Provider {} started job {} (pid {}, {})", provider, handle, process.pid(),
                    started.uid() == null ? started.isolation() : started.isolation() + " as uid " + started.uid());
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

    /** Where the job stands now: a job this runner does not hold in memory is taken back from its files. */
    public Mono<JobStatus> status(String handle) {
        return Mono.fromCallable(() -> Optional.ofNullable(jobs.get(handle)).or(() -> adopt(handle))
                        .map(job -> {
                            endIfGone(job);
                            return job.status();
                        })
                        .orElseGet(() -> new JobStatus.Ended(null, new JobSignal.Lost(clock.instant(), "provider " + provider
                                + " has no trace of job " + handle + " (it was never started)"))))
                .subscribeOn(Schedulers.boundedElastic());
    }

    /** Stops the job, and reports it stopped once none of its processes is left. Idempotent: an ended or unknown job is left alone. */
    public Mono<Void> terminate(String handle) {
        return Mono.fromRunnable(() -> {
            RunningJob job = Optional.ofNullable(jobs.get(handle)).or(() -> adopt(handle)).orElse(null);
            if (job != null && job.end("terminated")) {
                kill(job);
                job.signal(new JobSignal.Terminated(clock.instant()));
                finish(job);
            }
        }).subscribeOn(Schedulers.boundedElastic()).then();
    }

    public Mono<LogPage> logs(String handle, String cursor, int limit) {
        return Mono.fromCallable(() -> {
            Path output = recordDir(handle).resolve(JobRecords.OUTPUT);
            if (!Files.isRegularFile(output)) {
                return new LogPage(List.of(), null);
            }
            // The end of the output is known only once the job's end was reported (after its last process was gone,
            // see kill), and only if that was so before the file was read: a job read as running could still print.
            // Marked as ending is not enough: a job being terminated prints until it is killed.
            RunningJob job = Optional.ofNullable(jobs.get(handle)).or(() -> adopt(handle)).orElse(null);
            boolean ended = job == null || job.end != null;
            // Cursors are line offsets this method handed out; one past any real output just reads nothing.
            int from = cursor == null ? 0 : cursor.length() > 9 ? Integer.MAX_VALUE : Integer.parseInt(cursor);
            int pageSize = Math.min(Math.max(limit, 1), LOG_PAGE_MAX);
            List<String> lines = new ArrayList<>(pageSize);
            try (Stream<String> all = Files.lines(output, StandardCharsets.UTF_8)) {
                all.skip(from).limit(pageSize).forEach(lines::add);
            }
            return new LogPage(lines, Integer.toString(from + lines.size()), lines.size() < pageSize && ended);
        }).subscribeOn(Schedulers.boundedElastic())
                .onErrorMap(IOException.class, e -> new UncheckedIOException("could not read the output of " + handle, e));
    }

    private Path recordDir(String handle) {
        return jobsDir.resolve(handle);
    }

    /**
     * Takes back a job launched by an earlier life of this broker, from its launch record: still running (same pid,
     * same process start), ended with the exit status and end time the wrapper wrote, or gone without them (lost).
     * The records are the broker's: the job cannot write them, so it can neither pass for lost nor name another process.
     */
    private synchronized Optional<RunningJob> adopt(String handle) {
        RunningJob known = jobs.get(handle);
        if (known != null) {
            return Optional.of(known);
        }
        Path recordDir = recordDir(handle);
        Optional<JobRecords.LaunchRecord> record = JobRecords.readLaunch(recordDir);
        if (record.isEmpty()) {
            return Optional.empty();
        }
        JobRecords.LaunchRecord launch = record.get();
        RunningJob job = new RunningJob(recordDir, launch.isolation(), launch.uid());
        job.signal(new JobSignal.Running(launch.startedAt()));
        Optional<ProcessHandle> alive = ProcessHandle.of(launch.pid()).filter(ProcessHandle::isAlive)
                .filter(process -> process.info().startInstant().map(launch::isSameProcessStart).orElse(false));
        alive.ifPresent(process -> {
            job.process = process;
            job.adopted = true;
            sandbox.hold(launch.uid());
        });
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

    /**
     * A job taken back after a restart is not this JVM's child: the JDK hears of its end by polling, at intervals that
     * grow to 5 s, and counts a zombie as alive until whoever inherited it reaps it (seconds in a container whose first
     * process reaps slowly, never in one whose first process does not). A status that said "running" then would be a
     * sighting the broker bills to ({@code Metering.billedEnd}): so each status looks at the process itself first.
     */
    private void endIfGone(RunningJob job) {
        ProcessHandle process = job.process;
        if (job.adopted && job.ending == null && process != null && isGone(process, false)) {
            ended(job, null);
        }
    }

    /**
     * The wrapper is gone: report how the job ended, from what the wrapper wrote (its exit status and the time its last
     * process was gone), or from the exit value this broker saw. A sandbox bubblewrap could not make never ran the job:
     * that is the host's fault, not the agent's.
     */
    private void ended(RunningJob job, Integer exitValue) {
        if (!job.end("exited")) {
            return;
        }
        Optional<JobRecords.EndRecord> recorded = JobRecords.readEnd(job.recordDir);
        if (job.isolation == JobSandbox.Isolation.SANDBOX && !JobRecords.sandboxMade(job.recordDir)) {
            job.signal(new JobSignal.Lost(clock.instant(), "the job's sandbox could not be made on " + provider + ": "
                    + JobRecords.lastOutputLine(job.recordDir)));
        } else {
            Integer code = recorded.map(JobRecords.EndRecord::exitCode).orElse(exitValue);
            if (code == null) {
                job.signal(new JobSignal.Lost(clock.instant(), "the job's process on " + provider
                        + " ended without an exit status (stopped outside the broker)"));
            } else {
                job.signal(new JobSignal.Exited(recorded.map(JobRecords.EndRecord::at).orElseGet(clock::instant), code, false));
            }
        }
        finish(job);
    }

    private void finish(RunningJob job) {
        sandbox.release(job.uid);
        job.complete();
    }

    private void armMaxDuration(RunningJob job, Instant deadline) {
        Duration left = Duration.between(clock.instant(), deadline);
        Mono.delay(left.isNegative() ? Duration.ZERO : left, Schedulers.boundedElastic()).subscribe(tick -> {
            if (job.end("timed out")) {
                kill(job);
                job.signal(new JobSignal.Exited(clock.instant(), TIMED_OUT_EXIT_CODE, true));
                finish(job);
            }
        });
    }

    /**
     * Kills the job and waits, boundedly, until none of its processes is left. A sandbox's processes live in a PID
     * namespace: its init is killed first, and the kernel then kills everything left in it, whatever left the job's
     * process group or session. Then the wrapper, which leads the job's process group, with that group.
     */
    private static void kill(RunningJob job) {
        ProcessHandle process = job.process;
        if (process == null) {
            return;
        }
        List<ProcessHandle> started = new ArrayList<>();
        if (job.isolation == JobSandbox.Isolation.SANDBOX) {
            sandboxInit(job).ifPresent(init -> {
                init.destroyForcibly();
                started.add(init);
            });
        }
        started.addAll(process.descendants().toList());
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
        killGroup(process.pid());
        started.forEach(ProcessHandle::destroyForcibly);
        started.add(process);
        awaitGone(started);
    }

    /**
     * The sandbox's init, once bubblewrap has made it: a stop right after the launch waits for it (milliseconds),
     * since an init cloned but not yet told to die with its parent would outlive a killed bubblewrap. Only a process
     * still in the job's own PID namespace is the job's.
     */
    private static Optional<ProcessHandle> sandboxInit(RunningJob job) {
        long deadline = System.nanoTime() + SANDBOX_START_WAIT_MAX.toNanos();
        Optional<JobRecords.SandboxInit> init = JobRecords.sandboxInit(job.recordDir);
        while (init.isEmpty() && job.process.isAlive() && System.nanoTime() < deadline) {
            sleepBriefly();
            init = JobRecords.sandboxInit(job.recordDir);
        }
        return init.flatMap(found -> ProcessHandle.of(found.pid())
                .filter(candidate -> pidNamespace(found.pid()) == found.pidNamespace()));
    }

    private static long pidNamespace(long pid) {
        try {
            String link = Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "ns", "pid")).toString();
            return Long.parseLong(link.substring(link.indexOf('[') + 1, link.indexOf(']')));
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    private static void sleepBriefly() {
        try {
            Thread.sleep(10);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void awaitGone(List<ProcessHandle> processes) {
        long deadline = System.nanoTime() + GONE_WAIT_MAX.toNanos();
        for (ProcessHandle process : processes) {
            while (!isGone(process)) {
                if (System.nanoTime() > deadline || Thread.currentThread().isInterrupted()) {
                    log.warn("Process {} of a stopped job is still there {} s after SIGKILL", process.pid(),
                            GONE_WAIT_MAX.toSeconds());
                    return;
                }
                sleepBriefly();
            }
        }
    }

    /** Ended, or a zombie (it has ended and only waits for its parent to read its status). */
    private static boolean isGone(ProcessHandle process) {
        return isGone(process, true);
    }

    /**
     * @param unreadableMeansGone what a process whose state cannot be read counts as: gone while waiting for a killed
     *        job to disappear (a process reaped meanwhile has no state left to read), still there when deciding that a
     *        job ended (an end reported by mistake would fail it over unbilled while it runs)
     */
    private static boolean isGone(ProcessHandle process, boolean unreadableMeansGone) {
        if (!process.isAlive()) {
            return true;
        }
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(process.pid()), "stat"));
            // "pid (comm) S ...": the state follows the last parenthesis (comm may hold any character).
            return stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
        } catch (java.nio.file.NoSuchFileException reaped) {
            return true;
        } catch (IOException | RuntimeException e) {
            return unreadableMeansGone;
        }
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
}
