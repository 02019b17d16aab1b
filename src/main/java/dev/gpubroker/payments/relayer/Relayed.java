package dev.gpubroker.payments.relayer;

/**
 * What a submission to the relayer came to: the transaction that carries its purpose for its reference, signed by this
 * submission, or one already on its way or done that another submission (of this instance or another) signed first.
 */
public sealed interface Relayed {

    ChainTransaction transaction();

    /** Signed, stored and broadcast (or left to the tracker to broadcast) for this submission. */
    record Submitted(ChainTransaction transaction) implements Relayed {
    }

    /** Nothing new signed: a live transaction of the same purpose for the same reference was found under the lock. */
    record AlreadyLive(ChainTransaction transaction) implements Relayed {
    }
}
