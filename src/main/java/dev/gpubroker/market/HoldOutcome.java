package dev.gpubroker.market;

/** What a provider answers to a hold: held, or one of the refusals a market really gives. */
public sealed interface HoldOutcome {

    /** The capacity is held under this id until released or until the hold's time runs out. */
    record Held(String holdId) implements HoldOutcome {
    }

    /** Every unit of the offer is taken. */
    record NoCapacity(String reason) implements HoldOutcome {
    }

    /** The offer was listed but the provider refuses to hold it (host gone, listing stale). */
    record Unholdable(String reason) implements HoldOutcome {
    }
}
