package dev.gpubroker.jobs;

import dev.gpubroker.scheduler.Reservation;

/** What a cancel of a reservation did. Every outcome names the reservation as it stands after the cancel. */
public sealed interface CancelOutcome {

    /** Nothing was paid: the reservation is cancelled, its GPUs and budget released. */
    record Released(Reservation reservation) implements CancelOutcome {
    }

    /**
     * Paid, no job: the whole deposit is on its way back ({@code refundTx} once submitted, else shortly).
     * {@code earlier}: an earlier cancel had decided it already; this one changed nothing.
     */
    record Refunding(Reservation reservation, String refundTx, boolean earlier) implements CancelOutcome {
    }

    /** A payment was being confirmed: when its deposit confirms it is refunded in full; if it fails, nothing moved. */
    record RefundAfterPayment(Reservation reservation) implements CancelOutcome {
    }

    /** Its job runs: the job is stopping; the GPU-seconds used are settled and the rest refunded. */
    record JobStopping(Reservation reservation, Job job) implements CancelOutcome {
    }

    /** It had already ended (settled, refunded, expired, cancelled): nothing changed. */
    record AlreadyClosed(Reservation reservation) implements CancelOutcome {
    }
}
