package dev.gpubroker.scheduler;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * The states of a reservation and, in one place, which moves between them are allowed.
 * {@code PENDING_HOLD} is internal: the row exists (claiming the idempotency key and the quote) while the provider
 * is asked to hold capacity; clients only ever see the states after it. {@code REFUNDING}: the whole deposit of a paid
 * reservation is on its way back (a cancel decided it), so no job can start on it any more.
 */
public enum ReservationState {
    PENDING_HOLD,
    HELD,
    APPROVAL_REQUIRED,
    PAID,
    REFUNDING,
    RUNNING,
    SETTLED,
    REFUNDED,
    EXPIRED,
    CANCELLED;

    private static final Set<ReservationState> OPEN = EnumSet.of(PENDING_HOLD, HELD, APPROVAL_REQUIRED, PAID, REFUNDING,
            RUNNING);

    public boolean canMoveTo(ReservationState next) {
        return switch (this) {
            case PENDING_HOLD -> next == HELD || next == APPROVAL_REQUIRED || next == CANCELLED;
            case HELD -> next == PAID || next == EXPIRED || next == CANCELLED;
            case APPROVAL_REQUIRED -> next == HELD || next == EXPIRED || next == CANCELLED;
            // A paid reservation either starts its job or, once a refund is decided, can never start one
            // (REFUNDING); it is refunded directly only when its payer reclaimed the deposit on chain.
            case PAID -> next == RUNNING || next == REFUNDING || next == REFUNDED;
            case REFUNDING -> next == REFUNDED;
            case RUNNING -> next == SETTLED || next == REFUNDED;
            case SETTLED, REFUNDED, EXPIRED, CANCELLED -> false;
        };
    }

    /** Whether the reservation still holds capacity or money and can change. */
    public boolean isOpen() {
        return OPEN.contains(this);
    }

    /** The name clients see: {@code held}, {@code approval_required}, ... */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static ReservationState fromWireName(String name) {
        return valueOf(name.toUpperCase(Locale.ROOT));
    }
}
