package dev.gpubroker.lifecycle;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Pattern;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.SmartLifecycle;

import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * A pass over some persisted work, repeated at a fixed interval while the server runs: one pass at a time (a slow pass
 * makes the next one wait, never overlap), and a failing pass is logged and retried on the next tick. Driven from
 * the database, so a restart picks up where it stood.
 *
 * <p>Several instances may share the database, and each runs every sweep; a pass runs only on the instance that holds
 * the sweep's lease ({@link SweepLeaseRepository}, one row per {@link #leaseName()}). Each tick claims it for
 * {@value #LEASE_INTERVALS} intervals (at least {@link #LEASE_MIN}) before the pass: the holder renews it, another
 * instance skips the tick. A pass that outlasts a third of the lease renews it while it runs, and is cancelled should
 * another instance have taken the lease over meanwhile (this one could not reach the database for a whole lease). An
 * instance that dies holds its leases until they run out; the next tick of another instance after that takes over. A
 * clean {@link #stop} gives the lease back, and another instance takes over on its next tick.
 *
 * <p>The lease comes in through {@link #runUnderLease} ({@code @Autowired}), not the constructor: Spring calls it on
 * every sweep it makes before it starts one, and the subclasses, in four packages, keep their constructors as they are.
 * A sweep built by hand (a test, or a second instance simulated in one JVM) is never given one, and runs every pass
 * without a lease, as every sweep did before there were leases. {@link #sweep()} never takes the lease: tests and
 * recovery call it directly.
 */
public abstract class PeriodicSweep implements SmartLifecycle {

    /** The shortest lease: long enough that a holder's renewal survives a pause (GC, a busy database) of seconds. */
    static final Duration LEASE_MIN = Duration.ofSeconds(5);
    /** A lease lasts this many intervals: the holder may miss two ticks' renewals before another instance takes over. */
    static final int LEASE_INTERVALS = 3;
    /**
     * How long a clean stop waits for a claim under way and then for the lease to be given back, before it lets the
     * lease run out instead.
     */
    private static final Duration RELEASE_TIME_MAX = Duration.ofSeconds(2);
    private static final int LEASE_NAME_LENGTH_MAX = 64;
    private static final Pattern LEASE_NAME = Pattern.compile("[a-z0-9]+(-[a-z0-9]+)*");

    private final Logger log = LoggerFactory.getLogger(getClass());
    /** Lease times are compared across instances: the wall clock, which the instances must agree on (NTP). */
    private final Clock clock = Clock.systemUTC();
    private final Duration interval;
    private final String name;
    private final String leaseName;
    private final Duration lease;
    private volatile SweepLeaseRepository leases;
    private volatile String holder;
    /** Whether the last claim that reached the database held the lease: to log a takeover once, not every tick. */
    private volatile boolean holding;
    /** Until when the last successful claim holds the lease. */
    private volatile Instant heldUntil = Instant.EPOCH;
    /** The last claim sent to the database, answered or not. */
    private volatile CompletableFuture<Boolean> claimInFlight = CompletableFuture.completedFuture(false);
    private volatile Disposable loop;

    /** A sweep whose lease is named after {@code name} ("Job recovery" holds the lease "job-recovery"). */
    protected PeriodicSweep(String name, Duration interval) {
        this(name, leaseNameOf(name), interval);
    }

    /**
     * @param name what the logs call the sweep
     * @param leaseName the lease every instance's copy of this sweep claims: the same on every instance and every
     *        version that runs the sweep (lowercase words joined by '-', at most 64 characters)
     */
    protected PeriodicSweep(String name, String leaseName, Duration interval) {
        if (leaseName.length() > LEASE_NAME_LENGTH_MAX || !LEASE_NAME.matcher(leaseName).matches()) {
            throw new IllegalArgumentException("a sweep's lease name is lowercase words joined by '-', at most "
                    + LEASE_NAME_LENGTH_MAX + " characters: '" + leaseName + "'");
        }
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException(name + ": the interval must be positive, not " + interval);
        }
        this.name = name;
        this.leaseName = leaseName;
        this.interval = interval;
        Duration intervals = interval.multipliedBy(LEASE_INTERVALS);
        this.lease = intervals.compareTo(LEASE_MIN) < 0 ? LEASE_MIN : intervals;
    }

    /** From now on a pass runs only while this instance holds the sweep's lease. */
    @Autowired
    public final void runUnderLease(SweepLeaseRepository leases, BrokerInstance instance) {
        this.holder = instance.id();
        this.leases = leases;
    }

    /** One pass; public so that tests and recovery can run it on demand. Takes no lease. */
    public abstract Mono<Void> sweep();

    /** The lease this sweep runs under, the same on every instance. */
    public final String leaseName() {
        return leaseName;
    }

    /** How long a claim holds the lease: {@value #LEASE_INTERVALS} intervals, at least {@link #LEASE_MIN}. */
    public final Duration leaseDuration() {
        return lease;
    }

    @Override
    public void start() {
        holding = false;
        loop = Flux.interval(Duration.ZERO, interval, Schedulers.parallel())
                .onBackpressureDrop()
                .concatMap(tick -> leases == null ? pass() : passUnderLease(), 1)
                .subscribe();
        log.info("{} running every {}{}", name, interval,
                leases == null ? " (no lease)" : " under lease '" + leaseName + "' of " + lease);
    }

    private Mono<Void> pass() {
        return Mono.defer(this::sweep).onErrorResume(error -> {
            log.warn("{} pass failed; retrying in {}: {}", name, interval, error.toString());
            return Mono.empty();
        });
    }

    private Mono<Void> passUnderLease() {
        return claim()
                .onErrorResume(error -> {
                    log.warn("{} skips a pass: claiming lease '{}' failed: {}", name, leaseName, error.toString());
                    return Mono.empty();
                })
                // The pass starts where a pass without a lease starts, not on the database's thread that answered.
                .publishOn(Schedulers.parallel())
                .flatMap(held -> {
                    if (!held) {
                        holding = false;
                        log.debug("{} skips a pass: another instance holds lease '{}'", name, leaseName);
                        return Mono.empty();
                    }
                    if (!holding) {
                        holding = true;
                        log.info("{} runs on this instance ({}): it holds lease '{}'", name, holder, leaseName);
                    }
                    return Mono.firstWithSignal(pass(), leaseLost());
                });
    }

    /**
     * Renews the lease while a pass runs, and completes only when another instance has it: then the pass is cancelled.
     * A renewal that fails leaves the lease held for as long as the last claim that succeeded said.
     */
    private Mono<Void> leaseLost() {
        return Flux.interval(lease.dividedBy(3), Schedulers.parallel())
                .concatMap(tick -> claim().onErrorResume(error -> {
                    log.warn("{}: renewing lease '{}' failed: {}", name, leaseName, error.toString());
                    return Mono.just(clock.instant().isBefore(heldUntil));
                }), 1)
                .filter(held -> !held)
                .next()
                .doOnNext(lost -> {
                    holding = false;
                    log.warn("{}: lease '{}' is no longer this instance's (it ran out unrenewed, or another instance "
                            + "took it over); the pass under way is cancelled", name, leaseName);
                })
                .then();
    }

    /**
     * True when this instance holds the lease for another {@link #leaseDuration()}. The statement runs to its end even
     * when the pass that asked is cancelled, and {@link #stop} waits for it: a claim landing after the lease was given
     * back would hold it again for a whole lease.
     */
    private Mono<Boolean> claim() {
        return Mono.defer(() -> {
            Instant now = clock.instant();
            Instant until = now.plus(lease).truncatedTo(ChronoUnit.MILLIS);
            CompletableFuture<Boolean> call = leases.claim(leaseName, holder, now, until)
                    // A claim answered after half the lease has little of it left: the next tick claims again.
                    .timeout(lease.dividedBy(2))
                    .toFuture();
            claimInFlight = call;
            return Mono.fromFuture(call, true)
                    .doOnNext(held -> {
                        if (held) {
                            heldUntil = until;
                        }
                    });
        });
    }

    @Override
    public void stop() {
        stop(() -> { });
    }

    /** Stops the ticks, cancelling a pass under way, and gives the lease back; {@code callback} runs once it is back. */
    @Override
    public void stop(Runnable callback) {
        Disposable running = loop;
        loop = null;
        if (running != null) {
            running.dispose();
        }
        SweepLeaseRepository held = leases;
        if (running == null || held == null) {
            callback.run();
            return;
        }
        holding = false;
        Mono.fromFuture(claimInFlight, true)
                .onErrorResume(failedClaim -> Mono.empty())
                .then(held.release(leaseName, holder))
                .timeout(RELEASE_TIME_MAX)
                .doOnError(error -> log.info("{}: lease '{}' not given back ({}); another instance takes it over when "
                        + "it runs out", name, leaseName, error.toString()))
                .onErrorComplete()
                .doFinally(signal -> callback.run())
                .subscribe();
    }

    @Override
    public boolean isRunning() {
        return loop != null && !loop.isDisposed();
    }

    private static String leaseNameOf(String name) {
        return name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("^-+|-+$", "");
    }
}
