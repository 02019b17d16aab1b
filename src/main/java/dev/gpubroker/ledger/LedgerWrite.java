package dev.gpubroker.ledger;

/** What recording an entry did: an entry keyed to a chain log is written once, however often its receipt is seen. */
public sealed interface LedgerWrite {

    /** Written, and balanced on read-back. */
    record Written(String entryId) implements LedgerWrite {
    }

    /** An entry for this chain log is already in the ledger: nothing was written. */
    record AlreadyRecorded(String txHash, int logIndex) implements LedgerWrite {
    }

    default boolean written() {
        return this instanceof Written;
    }
}
