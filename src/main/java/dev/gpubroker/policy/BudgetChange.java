package dev.gpubroker.policy;

/**
 * What a change to a reservation's budget hold did. A hold is released or spent once: the second call (a receipt seen
 * again, a sweep after a crash) finds nothing held and changes nothing.
 */
public sealed interface BudgetChange {

    /** The hold was released, or turned into spending. */
    record Changed(String reservationId) implements BudgetChange {
    }

    /** No open hold for this reservation (already released or spent, or never held): nothing changed. */
    record NothingHeld(String reservationId) implements BudgetChange {
    }

    default boolean changed() {
        return this instanceof Changed;
    }

    static BudgetChange of(String reservationId, boolean changed) {
        return changed ? new Changed(reservationId) : new NothingHeld(reservationId);
    }
}
