package dev.gpubroker.jobs;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.springframework.stereotype.Component;

import dev.gpubroker.market.ComputeProvider;
import dev.gpubroker.market.JobAdmission;
import dev.gpubroker.market.JobEnvironmentRule;
import dev.gpubroker.market.ProviderCatalog;
import dev.gpubroker.metrics.RunRefusalMetrics;
import dev.gpubroker.scheduler.ReservationService;
import reactor.core.publisher.Mono;

/**
 * What {@code run} refuses before anything changes (the reservation stays paid, no job is created): an environment
 * variable the agent may not set ({@link JobEnvironmentRule}, with the names the reservation's provider sets itself),
 * or a job the provider would not run at all (a plain command where no sandbox can be made, {@link JobAdmission}).
 */
@Component
class RunAdmission {

    private final ReservationService reservations;
    private final ProviderCatalog providers;
    private final RunRefusalMetrics metrics;

    RunAdmission(ReservationService reservations, ProviderCatalog providers, RunRefusalMetrics metrics) {
        this.reservations = reservations;
        this.providers = providers;
        this.metrics = metrics;
    }

    /** The refusal, or empty when the job may start (an unknown reservation is left to {@code run} to refuse). */
    Mono<RunOutcome> refusal(String agentId, String reservationId, List<String> command, String image,
            Map<String, String> environment) {
        return reservations.findForAgent(agentId, reservationId)
                .flatMap(reservation -> Mono.justOrEmpty(refusal(providers.find(reservation.provider()), command, image,
                        environment)))
                .doOnNext(refused -> {
                    if (refused instanceof RunOutcome.Refused refusal) {
                        metrics.refused(refusal.code());
                    }
                });
    }

    static Optional<RunOutcome> refusal(Optional<ComputeProvider> provider, List<String> command, String image,
            Map<String, String> environment) {
        Optional<JobAdmission> admission = provider.filter(JobAdmission.class::isInstance).map(JobAdmission.class::cast);
        Set<String> reserved = admission.map(found -> found.reservedVariables(image)).orElse(Set.of());
        Optional<RunOutcome> variable = JobEnvironmentRule.check(environment, reserved, image != null)
                .map(refused -> new RunOutcome.Refused("env_not_allowed", "env." + refused.variable() + " is not allowed: "
                        + refused.variable() + " " + refused.why(), "env." + refused.variable(),
                        "call run again without " + refused.variable() + " (set it inside your command if your program "
                                + "needs it); nothing was spent"));
        if (variable.isPresent()) {
            return variable;
        }
        return admission.flatMap(found -> found.admit(command, image))
                .map(refused -> new RunOutcome.Refused(refused.code(), refused.message(), null, refused.nextStep()));
    }
}
