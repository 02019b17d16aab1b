package dev.gpubroker.market.demo;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.gpubroker.market.JobSignal;
import dev.gpubroker.market.LaunchOutcome;
import dev.gpubroker.market.LaunchRequest;
import dev.gpubroker.market.LogPage;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;

/**
 * Runs a demo provider's jobs for real, as local processes: each in its own working directory under
 * {@code <data>/jobs/<job id>}, output captured to {@code output.log}, the GPU environment a real provider sets
 * ({@code CUDA_VISIBLE_DEVICES}, {@code NVIDIA_VISIBLE_DEVICES}), a wall-clock limit, and the provider's simulated
 * faults: a launch that fails, a node lost mid-run.
 */
final class DemoJobRunner {

    private static final Logger log = LoggerFactory.getLogger(DemoJobRunner.class);
    private static final int LOG_PAGE_MAX = 1000;

    private final String provider;
    private final Path jobsDir;
    private final double launchFailureProbability;
    private final double nodeLossProbability;
    private final Duration nodeLossAfter;
    private final Clock clock;
    private final Map<String, RunningJob> jobs = new ConcurrentHashMap<>();

    DemoJobRunner(String provider, Path jobsDir, double launchFailureProbability, double nodeLossProbability,
            Duration nodeLossAfter, Clock clock) {
        this.provider = provider;
        this.jobsDir = jobsDir;
        this.launchFailureProbability = launchFailureProbability;
        this.nodeLossProbability = nodeLossProbability;
        this.nodeLossAfter = nodeLossAfter;
        this.clock = clock;
    }

    /** A job's process and what has been reported about it. */
    private static final class RunningJob {
        final Sinks.Many<JobSignal> signals = Sinks.many().replay().all();
        final Path output;
        volatile Process process;
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

    Mono<LaunchOutcome> launch(LaunchRequest request) {
        return Mono.fromCallable(() -> {
            if (jobs.containsKey(request.jobId())) {
                return (LaunchOutcome) new LaunchOutcome.Launched(request.jobId());
            }
            if (ThreadLocalRandom.current().nextDouble() < launchFailureProbability) {
                return new LaunchOutcome.LaunchFailed("the node did not come up (simulated launch failure at " + provider + ")");
            }
            Path workDir = jobsDir.resolve(request.jobId());
            Files.createDirectories(workDir);
            RunningJob job = new RunningJob(workDir.resolve("output.log"));
            ProcessBuilder builder = new ProcessBuilder(request.command())
                    .directory(workDir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(job.output.toFile());
            String devices = IntStream.range(0, request.gpuCount()).mapToObj(Integer::toString).collect(Collectors.joining(","));
            builder.environment().putAll(request.environment());
            builder.environment().put("CUDA_VISIBLE_DEVICES", devices);
            builder.environment().put("NVIDIA_VISIBLE_DEVICES", devices);
            builder.environment().put("GPUBROKER_JOB_ID", request.jobId());
            try {
                job.process = builder.start();
            } catch (IOException e) {
                return new LaunchOutcome.LaunchFailed("the command could not be started: " + e.getMessage());
            }
            // Written so that a restarted broker can stop a job its previous life left running.
            Files.writeString(workDir.resolve("pid"), Long.toString(job.process.pid()));
            jobs.put(request.jobId(), job);
            job.signal(new JobSignal.Running(clock.instant()));
            supervise(request, job);
            log.info("Demo provider {} started job {} (pid {}, {} GPU(s))", provider, request.jobId(), job.process.pid(),
                    request.gpuCount());
            return new LaunchOutcome.Launched(request.jobId());
        }).subscribeOn(Schedulers.boundedElastic());
    }

    private void supervise(LaunchRequest request, RunningJob job) {
        // Whoever ends the job first reports how; the signal goes out before the process is killed, so that the
        // exit the kill causes can only complete the stream after it.
        Mono.fromFuture(job.process.onExit()).subscribe(exited -> {
            if (job.end("exited")) {
                job.signal(new JobSignal.Exited(clock.instant(), exited.exitValue(), false));
            }
            job.complete();
        });
        Mono.delay(request.maxDuration()).subscribe(tick -> {
            if (job.end("timed out")) {
                job.signal(new JobSignal.Exited(clock.instant(), 137, true));
                kill(job);
            }
        });
        if (ThreadLocalRandom.current().nextDouble() < nodeLossProbability) {
            Mono.delay(nodeLossAfter).subscribe(tick -> {
                if (job.end("lost")) {
                    job.signal(new JobSignal.Lost(clock.instant(),
                            "the node running the job stopped answering (simulated node loss at " + provider + ")"));
                    kill(job);
                }
            });
        }
    }

    Flux<JobSignal> watch(String jobId) {
        RunningJob job = jobs.get(jobId);
        if (job != null) {
            return job.signals.asFlux();
        }
        // Unknown here: the broker restarted and lost the process table. A process left running is stopped, and the
        // job counts as lost, which is never billed.
        return Mono.fromCallable(() -> {
            Path pidFile = jobsDir.resolve(jobId).resolve("pid");
            if (Files.isRegularFile(pidFile)) {
                long pid = Long.parseLong(Files.readString(pidFile).strip());
                ProcessHandle.of(pid).filter(ProcessHandle::isAlive).ifPresent(orphan -> {
                    log.warn("Demo provider {}: stopping job {} (pid {}) left running before a restart", provider, jobId, pid);
                    orphan.descendants().forEach(ProcessHandle::destroyForcibly);
                    orphan.destroyForcibly();
                });
            }
            return (JobSignal) new JobSignal.Lost(clock.instant(), "provider " + provider + " lost job " + jobId
                    + " when its host restarted");
        }).subscribeOn(Schedulers.boundedElastic()).flux();
    }

    Mono<Void> terminate(String jobId) {
        return Mono.fromRunnable(() -> {
            RunningJob job = jobs.get(jobId);
            if (job != null && job.end("terminated")) {
                job.signal(new JobSignal.Terminated(clock.instant()));
                kill(job);
            }
        }).subscribeOn(Schedulers.boundedElastic()).then();
    }

    Mono<LogPage> logs(String jobId, String cursor, int limit) {
        return Mono.fromCallable(() -> {
            Path output = jobsDir.resolve(jobId).resolve("output.log");
            if (!Files.isRegularFile(output)) {
                return new LogPage(List.of(), null);
            }
            int from = cursor == null ? 0 : Integer.parseInt(cursor);
            int pageSize = Math.min(Math.max(limit, 1), LOG_PAGE_MAX);
            List<String> lines = new ArrayList<>(pageSize);
            try (Stream<String> all = Files.lines(output, StandardCharsets.UTF_8)) {
                all.skip(from).limit(pageSize).forEach(lines::add);
            }
            RunningJob job = jobs.get(jobId);
            boolean more = lines.size() == pageSize || (job != null && job.ending == null);
            return new LogPage(lines, more ? Integer.toString(from + lines.size()) : null);
        }).subscribeOn(Schedulers.boundedElastic())
                .onErrorMap(IOException.class, e -> new UncheckedIOException("could not read the output of " + jobId, e));
    }

    private static void kill(RunningJob job) {
        Process process = job.process;
        if (process != null && process.isAlive()) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
    }
}
