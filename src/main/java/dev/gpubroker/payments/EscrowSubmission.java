package dev.gpubroker.payments;

import dev.gpubroker.payments.relayer.ChainTransaction;

/** What submitting an {@link EscrowOperation} came to: the transaction that carries it, sent now or earlier. */
public sealed interface EscrowSubmission {

    ChainTransaction transaction();

    /** Submitted by this call. */
    record Submitted(ChainTransaction transaction) implements EscrowSubmission {
    }

    /**
     * One of the same purpose for the same reference was already on its way or done (signed, broadcast, confirmed or
     * replaced); nothing new was sent.
     */
    record AlreadyLive(ChainTransaction transaction) implements EscrowSubmission {
    }
}
