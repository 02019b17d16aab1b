package dev.gpubroker.market;

import java.time.Instant;

/** What a provider reports about a launched job. */
public sealed interface JobSignal {

    /** The job's process runs on the GPUs from {@code at}: billing starts here. */
    record Running(Instant at) implements JobSignal {
    }

    /** The job ended by itself (or at its wall-clock limit) with this exit code: billed up to {@code at}. */
    record Exited(Instant at, int exitCode, boolean timedOut) implements JobSignal {
    }

    /** The provider lost the job (node lost, host gone): the provider's fault, never billed. */
    record Lost(Instant at, String reason) implements JobSignal {
    }

    /** The job was stopped on request (cancel, dead-man switch). */
    record Terminated(Instant at) implements JobSignal {
    }
}
