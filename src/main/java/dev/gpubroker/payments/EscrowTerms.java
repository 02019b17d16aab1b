package dev.gpubroker.payments;

import java.math.BigInteger;
import java.time.Duration;

import dev.gpubroker.payments.chain.EscrowContract;
import dev.gpubroker.scheduler.Reservation;

/**
 * The deposit terms of a reservation, fixed when it is made: the reservation's key on chain, the payee, the escrow
 * deadline (after which anyone can reclaim an unsettled deposit for the payer, once the grace period passed) and the
 * EIP-3009 nonce that binds a payer's signature to exactly these terms.
 */
public record EscrowTerms(String reservationKey, String payee, BigInteger deadline, String nonce, BigInteger validBefore) {

    public static EscrowTerms of(Reservation reservation, String payee, Duration afterRun) {
        String key = EscrowContract.reservationKey(reservation.reservationId());
        long deadline = reservation.holdExpiresAt().plus(Duration.ofMinutes(reservation.durationMinutes())).plus(afterRun)
                .getEpochSecond();
        BigInteger deadlineSeconds = BigInteger.valueOf(deadline);
        return new EscrowTerms(key, payee, deadlineSeconds, EscrowContract.depositNonce(key, payee, deadlineSeconds),
                BigInteger.valueOf(reservation.holdExpiresAt().getEpochSecond()));
    }
}
