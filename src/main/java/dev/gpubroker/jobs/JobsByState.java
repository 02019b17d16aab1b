package dev.gpubroker.jobs;

import java.util.Map;

import org.springframework.stereotype.Component;

import dev.gpubroker.metrics.DatabaseGauges;
import reactor.core.publisher.Mono;

/** The jobs by state for the operator's gauge: this package owns the table, so it does the counting. */
@Component
class JobsByState implements DatabaseGauges.StateSource {

    private final JobRepository jobs;

    JobsByState(JobRepository jobs) {
        this.jobs = jobs;
    }

    @Override
    public DatabaseGauges.Lifecycle lifecycle() {
        return DatabaseGauges.Lifecycle.JOBS;
    }

    @Override
    public Mono<Map<String, Long>> countByState() {
        return jobs.countByState();
    }
}
