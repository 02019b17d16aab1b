package dev.gpubroker.metrics;

import java.util.Comparator;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

import dev.gpubroker.config.BrokerProperties;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The gauges whose values live in the database: reservations, payments and jobs by state ({@code
 * gpubroker_reservations}, {@code gpubroker_payments}, {@code gpubroker_jobs}) and what the escrows hold ({@code
 * gpubroker_escrowed_usdc_micros}). A scrape must not wait on the database, so they are read in the background every
 * {@code gpubroker.metrics.refresh-interval} ({@link BackgroundRefresh}) and the scrape reports the last values read.
 * Every instance reads them (they are the same on all instances sharing a database).
 *
 * <p>The packages that own the tables answer the reads ({@link StateSource}, {@link EscrowSource}), so that metrics
 * knows none of them: every business package records into metrics, and a read the other way would close a cycle.
 *
 * <p>Only where there is an HTTP server to scrape them from: not in {@code --stdio} mode.
 */
@Component
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.REACTIVE)
public class DatabaseGauges implements SmartLifecycle {

    static final String ESCROWED = "gpubroker.escrowed.usdc.micros";

    /** The lifecycles counted by state, each one gauge tagged by state; read in this order. */
    public enum Lifecycle {
        RESERVATIONS("gpubroker.reservations", "Reservations by state"),
        PAYMENTS("gpubroker.payments", "Payments by status"),
        JOBS("gpubroker.jobs", "Jobs by state");

        private final String gaugeName;
        private final String description;

        Lifecycle(String gaugeName, String description) {
            this.gaugeName = gaugeName;
            this.description = description;
        }
    }

    /** One lifecycle's rows counted by state, answered by the package that owns its table. */
    public interface StateSource {

        Lifecycle lifecycle();

        /** Every state of the lifecycle by its lowercase name, zero where no row is in it. */
        Mono<Map<String, Long>> countByState();
    }

    /** What every escrow holds now according to the ledger, in micro-USDC, answered by the ledger. */
    public interface EscrowSource {

        Mono<Long> escrowedMicros();
    }

    private final List<StateSource> sources;
    private final EscrowSource escrow;
    private final MeterRegistry registry;
    private final Map<Lifecycle, Map<String, AtomicLong>> byState = new EnumMap<>(Lifecycle.class);
    /** Null until the first read: the gauge says NaN rather than a zero nobody read. */
    private final AtomicReference<Long> escrowedMicros = new AtomicReference<>();
    private final BackgroundRefresh loop;

    public DatabaseGauges(List<StateSource> sources, EscrowSource escrow, MeterRegistry registry,
            BrokerProperties properties) {
        EnumSet<Lifecycle> answered = EnumSet.noneOf(Lifecycle.class);
        for (StateSource source : sources) {
            if (!answered.add(source.lifecycle())) {
                throw new IllegalStateException("two sources count " + source.lifecycle());
            }
        }
        if (!answered.equals(EnumSet.allOf(Lifecycle.class))) {
            throw new IllegalStateException("no source counts " + EnumSet.complementOf(answered));
        }
        this.sources = sources.stream().sorted(Comparator.comparing(StateSource::lifecycle)).toList();
        this.escrow = escrow;
        this.registry = registry;
        for (Lifecycle lifecycle : Lifecycle.values()) {
            byState.put(lifecycle, new ConcurrentHashMap<>());
        }
        this.loop = new BackgroundRefresh("the database's gauges", properties.metrics().refreshInterval(), this::refresh);
        Gauge.builder(ESCROWED, escrowedMicros, held -> held.get() == null ? Double.NaN : held.get())
                .description("What every escrow holds now according to the ledger (deposits less payouts and refunds), "
                        + "in micro-USDC")
                .strongReference(true)
                .register(registry);
    }

    /** Reads every gauge once; the background loop calls it every interval, a test may call it directly. */
    public Mono<Void> refresh() {
        return Flux.concat(Flux.fromIterable(sources)
                                .concatMap(source -> source.countByState()
                                        .doOnNext(counts -> update(source.lifecycle(), counts)))
                                .then(),
                        escrow.escrowedMicros().doOnNext(escrowedMicros::set).then())
                .then();
    }

    /** The owner answers every state of the lifecycle, so a state that empties reads 0 rather than its last count. */
    private void update(Lifecycle lifecycle, Map<String, Long> counts) {
        Map<String, AtomicLong> gauges = byState.get(lifecycle);
        counts.forEach((state, count) -> gauges.computeIfAbsent(state, newState -> {
            AtomicLong value = new AtomicLong();
            Gauge.builder(lifecycle.gaugeName, value, AtomicLong::get).description(lifecycle.description)
                    .tag("state", newState).strongReference(true).register(registry);
            return value;
        }).set(count));
        gauges.forEach((state, value) -> {
            if (!counts.containsKey(state)) {
                value.set(0);
            }
        });
    }

    @Override
    public void start() {
        loop.start();
    }

    @Override
    public void stop() {
        loop.stop();
    }

    @Override
    public boolean isRunning() {
        return loop.isRunning();
    }
}
