package dev.gpubroker.market;

/** A launch: started, or refused by the provider (its fault: the agent pays nothing for it). */
public sealed interface LaunchOutcome {

    record Launched(String jobId) implements LaunchOutcome {
    }

    record LaunchFailed(String reason) implements LaunchOutcome {
    }
}
