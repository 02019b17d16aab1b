package dev.gpubroker.payments;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import org.springframework.stereotype.Component;

import dev.gpubroker.money.Usdc;

/**
 * Payment requirements for a reservation. Until a chain, the USDC token and the escrow are configured (the payments
 * work), this says so honestly: the amount and the scheme are real, where to pay is not set.
 */
@Component
public class PaymentTerms {

    public static final String NOT_CONFIGURED_MESSAGE =
            "payment is not configured on this server yet: no chain, USDC token or escrow is set up, so this reservation "
                    + "cannot be paid; it holds capacity until holdExpiresAt and then expires";

    private final Clock clock;

    public PaymentTerms(Clock clock) {
        this.clock = clock;
    }

    public boolean configured() {
        return false;
    }

    public PaymentRequirements requirementsFor(Usdc amount, Instant payBy) {
        long secondsLeft = Math.max(0, Duration.between(clock.instant(), payBy).toSeconds());
        return new PaymentRequirements("exact", null, Long.toString(amount.micros()), null, null,
                (int) Math.min(Integer.MAX_VALUE, secondsLeft), Map.of("assetTransferMethod", "eip3009"));
    }
}
