package dev.gpubroker.metrics;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

import org.springframework.boot.health.actuate.endpoint.HealthEndpointGroups;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.ReactiveHealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.health.registry.ReactiveHealthContributorRegistry;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

import dev.gpubroker.config.BrokerProperties;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The health check's verdict on what this instance needs to serve, as a gauge Prometheus can alert on
 * ({@code gpubroker_health_up{component="r2dbc"}}, {@code {component="chain"}}: 1 UP, 0 anything else, NaN before the
 * first check): every indicator of the readiness group ({@code management.endpoint.health.group.readiness}), asked in
 * the background every {@code gpubroker.metrics.refresh-interval}, like a load balancer would ask
 * {@code /actuator/health/readiness}.
 *
 * <p>Only where there is an HTTP server (and a health check) to scrape them from: not in {@code --stdio} mode.
 */
@Component
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.REACTIVE)
public class HealthGauges implements SmartLifecycle {

    static final String HEALTH_UP = "gpubroker.health.up";
    static final String GROUP = "readiness";

    private record Checked(String component, ReactiveHealthIndicator indicator, AtomicReference<Double> up) {
    }

    private final ReactiveHealthContributorRegistry contributors;
    private final HealthEndpointGroups groups;
    private final MeterRegistry registry;
    private final Map<String, Checked> checked = new ConcurrentHashMap<>();
    private final BackgroundRefresh loop;

    public HealthGauges(ReactiveHealthContributorRegistry contributors, HealthEndpointGroups groups,
            MeterRegistry registry, BrokerProperties properties) {
        this.contributors = contributors;
        this.groups = groups;
        this.registry = registry;
        this.loop = new BackgroundRefresh("the health gauges", properties.metrics().refreshInterval(), this::refresh);
    }

    /** Asks every indicator of the readiness group once; the background loop calls it every interval. */
    public Mono<Void> refresh() {
        return Flux.fromIterable(indicators())
                .flatMap(entry -> entry.indicator().health()
                        .map(Health::getStatus)
                        .timeout(BackgroundRefresh.READ_TIME_MAX)
                        .onErrorReturn(Status.DOWN)
                        .doOnNext(status -> entry.up().set(Status.UP.equals(status) ? 1.0 : 0.0)))
                .then();
    }

    /** The group's reactive indicators, each with its gauge (registered the first time it is seen). */
    private List<Checked> indicators() {
        var group = groups.get(GROUP);
        return contributors.stream()
                .filter(entry -> group == null ? groups.getPrimary().isMember(entry.name()) : group.isMember(entry.name()))
                .filter(entry -> entry.contributor() instanceof ReactiveHealthIndicator)
                .map(entry -> checked.computeIfAbsent(entry.name(), component -> {
                    AtomicReference<Double> up = new AtomicReference<>(Double.NaN);
                    Gauge.builder(HEALTH_UP, up, AtomicReference::get)
                            .description("1 when the health indicator is UP on this instance, 0 when it is not")
                            .tag("component", component)
                            .strongReference(true)
                            .register(registry);
                    return new Checked(component, (ReactiveHealthIndicator) entry.contributor(), up);
                }))
                .toList();
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
