package dev.gpubroker.identity;

/**
 * An agent just created, with its API key in clear: the only moment the key exists outside the agent's hands.
 * {@link #toString()} leaves the key out so that it cannot reach a log by accident.
 */
public record NewAgent(Agent agent, String apiKey) {

    @Override
    public String toString() {
        return "NewAgent[agent=" + agent + ", apiKey=<redacted>]";
    }
}
