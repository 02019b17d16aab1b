package dev.gpubroker.payments.chain;

import dev.gpubroker.money.Usdc;

/** An escrow event read from a receipt, with its amounts and its index in the block (what ledger entries key on). */
public sealed interface EscrowEvent {

    int logIndex();

    /** The deposit is in the escrow. */
    record Deposited(Usdc amount, int logIndex) implements EscrowEvent {
    }

    /** The escrow paid {@code paidToPayee} to the seller and {@code refundedToPayer} back, and is closed. */
    record Settled(Usdc paidToPayee, Usdc refundedToPayer, int logIndex) implements EscrowEvent {
    }

    /** The whole deposit went back to its payer. */
    record Refunded(Usdc refundedToPayer, int logIndex) implements EscrowEvent {
    }
}
