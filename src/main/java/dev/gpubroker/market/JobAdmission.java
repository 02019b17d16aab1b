package dev.gpubroker.market;

import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Optional capability of a provider: what it would refuse to run, said before anything is spent. The broker asks at
 * {@code run}, before the paid reservation is claimed, so that a refusal changes nothing (the reservation stays paid,
 * no job is created).
 */
public interface JobAdmission {

    /**
     * The variables this provider sets itself in a job with this image (null: a plain command); an agent's {@code env}
     * may not name them.
     */
    Set<String> reservedVariables(String image);

    /** Empty when this provider can run the job as asked; otherwise why not, and what the agent can do instead. */
    Optional<Refusal> admit(List<String> command, String image);

    /** A job this provider will not run: a stable code, a message, and a next step. */
    record Refusal(String code, String message, String nextStep) {
    }
}
