package dev.gpubroker.jobs;


/** What a run call ends in: a job (new or replayed), or a refusal that changed nothing. */
public sealed interface RunOutcome {

    record Started(Job job, boolean replayed) implements RunOutcome {
    }

    record Refused(String code, String message, String field, String nextStep) implements RunOutcome {
    }
}
