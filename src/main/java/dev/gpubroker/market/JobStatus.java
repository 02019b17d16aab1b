package dev.gpubroker.market;

import java.time.Instant;
import java.util.Objects;

/**
 * What a provider answers when asked about a launched job: the job engine polls this (any broker instance may ask),
 * so it must come from the provider's own records, never from what one broker process happens to hold in memory.
 */
public sealed interface JobStatus {

    /** Accepted, not running yet (provisioning, pulling the image). */
    record Starting() implements JobStatus {
    }

    /**
     * Runs on the GPUs since {@code startedAt}: billing starts there. {@code readiness} is what the job's readiness
     * probe found (e.g. "2 x H100 found by nvidia-smi"), or null where the provider runs no probe (the demo
     * marketplace, this host, whose GPUs the broker reads itself).
     */
    record Running(Instant startedAt, String readiness) implements JobStatus {

        public Running {
            Objects.requireNonNull(startedAt, "startedAt");
        }

        public Running(Instant startedAt) {
            this(startedAt, null);
        }
    }

    /**
     * Over: {@code how} is {@link JobSignal.Exited}, {@link JobSignal.Terminated} or {@link JobSignal.Lost}.
     * {@code startedAt} is when it had started running, or null when it never did. {@code readiness} is what its
     * readiness probe found, as for {@link Running} (a job can start and end between two polls), or null.
     */
    record Ended(Instant startedAt, JobSignal how, String readiness) implements JobStatus {

        public Ended {
            Objects.requireNonNull(how, "how");
            if (how instanceof JobSignal.Running) {
                throw new IllegalArgumentException("a job that ended did not end by running");
            }
        }

        public Ended(Instant startedAt, JobSignal how) {
            this(startedAt, how, null);
        }
    }
}
