package dev.gpubroker.jobs;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;
import org.springframework.transaction.reactive.TransactionalOperator;

import dev.gpubroker.config.BrokerProperties;
import dev.gpubroker.jobs.JobRepository.LeasedJob;
import dev.gpubroker.lifecycle.BrokerInstance;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;

/**
 * Moves every open job forward, on any number of broker instances sharing one database. A job's next step and when
 * it is due are persisted; an instance claims due jobs that are free for it with a lease ({@code SELECT ... FOR UPDATE
 * SKIP LOCKED}, then the lease written in the same transaction), takes the step ({@link JobSteps}), and keeps the job
 * until the next step's due time plus the lease: a job stays with one instance while it lives (its processes, the
 * environment values only it holds), and when it dies the lease runs out and another instance takes the same step
 * again. Nothing in memory is the source of truth (every step is idempotent: launches by the attempt's name at the
 * provider, state changes conditional on the attempt and state they start from, settlement once per reservation).
 */
@Component
public class JobEngine implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(JobEngine.class);
    private static final Duration TICK = Duration.ofMillis(200);
    private static final Duration RETRY_AFTER = Duration.ofSeconds(2);
    private static final int IN_FLIGHT_MAX = 64;

    private final JobRepository jobs;
    private final JobSteps steps;
    private final TransactionalOperator transaction;
    private final Clock clock;
    private final BrokerInstance instance;
    private final Duration lease;
    private final Set<String> inFlight = ConcurrentHashMap.newKeySet();
    // Steps under way stop with the engine (their leases run out; another instance or the next start takes them up).
    private volatile Sinks.Empty<Void> stopping = Sinks.empty();
    private volatile Disposable loop;

    public JobEngine(JobRepository jobs, JobSteps steps, TransactionalOperator transaction, Clock clock,
            BrokerInstance instance, BrokerProperties properties) {
        this.jobs = jobs;
        this.steps = steps;
        this.transaction = transaction;
        this.clock = clock;
        this.instance = instance;
        this.lease = properties.jobs().lease();
    }

    /** The lease a new job is inserted with: its launch is this instance's (it alone has the environment values). */
    Instant newJobLeaseUntil() {
        return leaseUntil();
    }

    /** The holder a new job is inserted with. */
    String holder() {
        return instance.id();
    }

    /** A job this instance just inserted, leased to itself: launched now, without waiting for a tick. */
    void launchNew(Job job, Map<String, String> environment, Instant leaseUntil) {
        steps.remember(job.jobId(), environment);
        take(new LeasedJob(job, JobRepository.JobStep.LAUNCH, leaseUntil, false));
    }

    /** One pass: claims as many due jobs as there is room for, and starts their steps. */
    private Mono<Integer> pass() {
        int room = IN_FLIGHT_MAX - inFlight.size();
        if (room <= 0) {
            return Mono.just(0);
        }
        return claim(room).doOnNext(claimed -> claimed.forEach(this::take)).map(List::size);
    }

    private Mono<List<LeasedJob>> claim(int limit) {
        Instant now = clock.instant();
        Instant until = leaseUntil();
        String holder = instance.id();
        return transaction.transactional(jobs.findDueForUpdate(holder, now, limit).collectList()
                .flatMap(due -> {
                    if (due.isEmpty()) {
                        return Mono.just(List.<LeasedJob>of());
                    }
                    List<String> ids = due.stream().map(JobRepository.DueJob::jobId).toList();
                    Set<String> takenOver = due.stream()
                            .filter(job -> job.previousHolder() != null && !job.previousHolder().equals(holder))
                            .map(JobRepository.DueJob::jobId).collect(java.util.stream.Collectors.toSet());
                    return jobs.lease(ids, holder, now, until).then(jobs.findLeased(ids, holder)
                            .map(leased -> leased.withTakenOver(takenOver.contains(leased.job().jobId())))
                            .collectList());
                }));
    }

    private void take(LeasedJob leased) {
        String jobId = leased.job().jobId();
        if (!inFlight.add(jobId)) {
            return;
        }
        Mono.defer(() -> steps.take(leased))
                .onErrorResume(error -> {
                    log.warn("Job {}: step {} failed, retrying in {}: {}", jobId, leased.step(), RETRY_AFTER,
                            error.toString());
                    return Mono.just(clock.instant().plus(RETRY_AFTER));
                })
                .defaultIfEmpty(clock.instant())
                .flatMap(due -> jobs.renewLease(jobId, instance.id(), due, leaseAfter(due)))
                .onErrorResume(error -> {
                    // The lease runs out by itself: the job is taken up again then.
                    log.warn("Job {}: renewing its lease failed: {}", jobId, error.toString());
                    return Mono.empty();
                })
                .takeUntilOther(stopping.asMono())
                .doFinally(signal -> inFlight.remove(jobId))
                .subscribe();
    }

    private Instant leaseUntil() {
        return leaseAfter(clock.instant());
    }

    private Instant leaseAfter(Instant from) {
        // Millisecond precision: databases keep microseconds at most, and the lease is compared back as stored.
        return from.plus(lease).truncatedTo(ChronoUnit.MILLIS);
    }

    @Override
    public void start() {
        stopping = Sinks.empty();
        loop = Flux.interval(TICK, TICK, Schedulers.parallel())
                .onBackpressureDrop()
                .concatMap(tick -> pass().onErrorResume(error -> {
                    log.warn("Job engine: claiming due jobs failed; retrying: {}", error.toString());
                    return Mono.empty();
                }), 1)
                .subscribe();
        log.info("Job engine running as {} (lease {}, status polled every {})", instance.id(), lease,
                steps.pollInterval());
    }

    @Override
    public void stop() {
        stop(() -> { });
    }

    /** Stops taking steps and hands this instance's jobs to the others at once, rather than after their leases. */
    @Override
    public void stop(Runnable callback) {
        Disposable claiming = loop;
        if (claiming != null) {
            claiming.dispose();
        }
        loop = null;
        stopping.tryEmitEmpty();
        jobs.releaseLeases(instance.id()).timeout(Duration.ofSeconds(2))
                .doOnNext(released -> {
                    if (released > 0) {
                        log.info("Job engine stopped: {} open job(s) left to the other instances", released);
                    }
                })
                .onErrorResume(error -> {
                    log.warn("Job engine stopped without freeing its leases (they run out in {}): {}", lease,
                            error.toString());
                    return Mono.empty();
                })
                .doFinally(signal -> callback.run())
                .subscribe();
    }

    @Override
    public boolean isRunning() {
        return loop != null && !loop.isDisposed();
    }
}
