package dev.gpubroker.metrics;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

import dev.gpubroker.config.BrokerProperties;
import dev.gpubroker.jobs.JobRepository;
import dev.gpubroker.ledger.LedgerRepository;
import dev.gpubroker.payments.PaymentRepository;
import dev.gpubroker.scheduler.ReservationRepository;
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
 * <p>Only where there is an HTTP server to scrape them from: not in {@code --stdio} mode.
 */
@Component
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.REACTIVE)
public class DatabaseGauges implements SmartLifecycle {

    static final String RESERVATIONS = "gpubroker.reservations";
    static final String PAYMENTS = "gpubroker.payments";
    static final String JOBS = "gpubroker.jobs";
    static final String ESCROWED = "gpubroker.escrowed.usdc.micros";

    private final ReservationRepository reservations;
    private final PaymentRepository payments;
    private final JobRepository jobs;
    private final LedgerRepository ledger;
    private final MeterRegistry registry;
    private final Map<String, AtomicLong> reservationsByState = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> paymentsByStatus = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> jobsByState = new ConcurrentHashMap<>();
    /** Null until the first read: the gauge says NaN rather than a zero nobody read. */
    private final AtomicReference<Long> escrowedMicros = new AtomicReference<>();
    private final BackgroundRefresh loop;

    public DatabaseGauges(ReservationRepository reservations, PaymentRepository payments, JobRepository jobs,
            LedgerRepository ledger, MeterRegistry registry, BrokerProperties properties) {
        this.reservations = reservations;
        this.payments = payments;
        this.jobs = jobs;
        this.ledger = ledger;
        this.registry = registry;
        this.loop = new BackgroundRefresh("the database's gauges", properties.metrics().refreshInterval(), this::refresh);
        Gauge.builder(ESCROWED, escrowedMicros, held -> held.get() == null ? Double.NaN : held.get())
                .description("What every escrow holds now according to the ledger (deposits less payouts and refunds), "
                        + "in micro-USDC")
                .strongReference(true)
                .register(registry);
    }

    /** Reads every gauge once; the background loop calls it every interval, a test may call it directly. */
    public Mono<Void> refresh() {
        return Flux.concat(
                        reservations.countByState().doOnNext(counts -> update(RESERVATIONS, "Reservations by state",
                                reservationsByState, counts)).then(),
                        payments.countByStatus().doOnNext(counts -> update(PAYMENTS, "Payments by status",
                                paymentsByStatus, counts)).then(),
                        jobs.countByState().doOnNext(counts -> update(JOBS, "Jobs by state", jobsByState, counts)).then(),
                        ledger.escrowBalanceMicros().doOnNext(escrowedMicros::set).then())
                .then();
    }

    /** The store answers every state of the lifecycle, so a state that empties reads 0 rather than its last count. */
    private void update(String name, String description, Map<String, AtomicLong> gauges, Map<String, Long> counts) {
        counts.forEach((state, count) -> gauges.computeIfAbsent(state, newState -> {
            AtomicLong value = new AtomicLong();
            Gauge.builder(name, value, AtomicLong::get).description(description).tag("state", newState)
                    .strongReference(true).register(registry);
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
