package dev.gpubroker.payments.chain;

import java.math.BigInteger;
import java.util.Objects;

/**
 * One reservation's deposit as the escrow contract holds it now ({@code GpuEscrow.deposits}). {@code NONE}: nothing
 * was ever deposited under that key; {@code DEPOSITED}: the money is in escrow and can still be settled or refunded;
 * the other states are final.
 */
public record EscrowDeposit(String payer, String payee, BigInteger amount, BigInteger deadline, BigInteger paidOut,
        BigInteger refunded, State state) {

    /** The contract's {@code State} enum, in its order. */
    public enum State { NONE, DEPOSITED, SETTLED, REFUNDED, RECLAIMED }

    public EscrowDeposit {
        Objects.requireNonNull(state, "state");
        if (amount.signum() < 0 || paidOut.signum() < 0 || refunded.signum() < 0) {
            throw new IllegalStateException("the escrow answered a negative amount");
        }
        // The contract's own invariant, checked on what we read: a closed deposit was split exactly.
        if (state != State.NONE && state != State.DEPOSITED && !paidOut.add(refunded).equals(amount)) {
            throw new IllegalStateException("the escrow reports a closed deposit of " + amount + " split into " + paidOut
                    + " + " + refunded);
        }
    }

    public boolean isOpen() {
        return state == State.DEPOSITED;
    }
}
