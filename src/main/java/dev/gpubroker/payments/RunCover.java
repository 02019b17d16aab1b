package dev.gpubroker.payments;

import java.time.Instant;

/**
 * Whether a reservation's escrow can pay for a run that starts now: the deposit is in escrow, whole, and the run
 * (plus a margin for settling it) ends before the escrow deadline, after which its payer may take it back.
 */
public sealed interface RunCover {

    record Covered() implements RunCover {
    }

    /** The run would end too close to (or after) the escrow deadline: the settlement might come too late. */
    record DeadlineTooClose(Instant escrowDeadline, Instant runEndsBy) implements RunCover {
    }

    /** The escrow does not hold this reservation's deposit (never deposited, reclaimed, or already closed). */
    record NotInEscrow(String escrowState) implements RunCover {
    }
}
