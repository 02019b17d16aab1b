package dev.gpubroker.metrics;

import org.springframework.stereotype.Component;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Jobs refused at {@code run} before anything changed, by refusal code ({@code gpubroker_run_refusals_total}):
 * {@code sandbox_unavailable} is a plain command refused because no sandbox can be made on this host (the operator
 * should install or fix bubblewrap), {@code env_not_allowed} an environment variable the agent may not set, and
 * whatever else a provider's admission refuses. The codes are the broker's own, a handful.
 */
@Component
public class RunRefusalMetrics {

    static final String REFUSALS = "gpubroker.run.refusals";

    private final MeterRegistry registry;

    public RunRefusalMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    public void refused(String code) {
        Counter.builder(REFUSALS)
                .description("Jobs refused at run before anything changed, by refusal code")
                .tag("code", code)
                .register(registry)
                .increment();
    }
}
