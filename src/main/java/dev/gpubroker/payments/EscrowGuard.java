package dev.gpubroker.payments;

import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

import org.springframework.stereotype.Service;

import dev.gpubroker.payments.chain.EscrowDeposit;
import dev.gpubroker.scheduler.Reservation;
import reactor.core.publisher.Mono;

/**
 * Checks, before any job starts on a reservation, that its escrow can pay for it: the deadline recorded with its
 * payment leaves room for the whole run plus the settlement margin, and the chain itself says the deposit is there,
 * open and whole. A deposit found reclaimed is recorded at once ({@link Reclaims}).
 */
@Service
public class EscrowGuard {

    private final PaymentRepository payments;
    private final EscrowState escrow;
    private final Reclaims reclaims;
    private final Clock clock;

    public EscrowGuard(PaymentRepository payments, EscrowState escrow, Reclaims reclaims, Clock clock) {
        this.payments = payments;
        this.escrow = escrow;
        this.reclaims = reclaims;
        this.clock = clock;
    }

    public Mono<RunCover> coverFor(Reservation reservation, Duration run, Duration settleMargin) {
        if (reservation.paymentId() == null) {
            return Mono.just(new RunCover.NotInEscrow("never paid"));
        }
        return payments.findById(reservation.paymentId())
                .switchIfEmpty(Mono.error(new IllegalStateException("reservation " + reservation.reservationId()
                        + " names payment " + reservation.paymentId() + ", which does not exist")))
                .flatMap(payment -> {
                    Instant deadline = Instant.ofEpochSecond(payment.escrowDeadline());
                    Instant runEndsBy = clock.instant().plus(run).plus(settleMargin);
                    if (runEndsBy.isAfter(deadline)) {
                        return Mono.just((RunCover) new RunCover.DeadlineTooClose(deadline, runEndsBy));
                    }
                    return escrow.of(reservation.reservationId()).flatMap(deposit -> isWhole(deposit, reservation)
                            ? Mono.just((RunCover) new RunCover.Covered())
                            : reclaims.recordIfReclaimed(reservation)
                                    .map(reclaimed -> "reclaimed by its payer in " + reclaimed.txHash())
                                    .defaultIfEmpty(deposit.state().name().toLowerCase(java.util.Locale.ROOT))
                                    .map(RunCover.NotInEscrow::new));
                });
    }

    private static boolean isWhole(EscrowDeposit deposit, Reservation reservation) {
        return deposit.isOpen() && deposit.amount().equals(BigInteger.valueOf(reservation.amount().micros()));
    }
}
