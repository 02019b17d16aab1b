package dev.gpubroker.scheduler;

import dev.gpubroker.lifecycle.PeriodicSweep;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

import dev.gpubroker.config.BrokerProperties;
import dev.gpubroker.market.ComputeProvider;
import dev.gpubroker.market.ProviderCatalog;
import dev.gpubroker.market.QuoteService;
import dev.gpubroker.policy.PolicyService;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The reservation timers, driven from the database so they survive a restart: holds that expire unpaid (or
 * unapproved) are expired and their capacity and budget released; overdue approvals expire; the capacity of
 * settled and refunded reservations goes back to the provider; capacity of closed reservations that is still held (a crash came between the
 * two steps) is released; claims abandoned in {@code PENDING_HOLD} are cleaned up. Each sweep handles a bounded
 * batch, and one failing reservation never stops the others.
 */
@Component
public class ReservationTimers extends PeriodicSweep {

    private static final Logger log = LoggerFactory.getLogger(ReservationTimers.class);
    private static final int BATCH_SIZE_MAX = 100;
    private static final Duration QUOTE_RETENTION = Duration.ofHours(1);

    private final ReservationRepository reservations;
    private final QuoteService quotes;
    private final ReservationService reservationService;
    private final ProviderCatalog providers;
    private final Clock clock;
    private final Duration abandonedAfter;
    private final Duration providerTimeout;
    private final ApprovalService approvals;
    private final PolicyService policies;

    public ReservationTimers(ReservationRepository reservations, QuoteService quotes,
            ReservationService reservationService, ProviderCatalog providers, Clock clock, BrokerProperties properties,
            ApprovalService approvals, PolicyService policies) {
        super("Reservation timers", properties.reservations().expirySweepInterval());
        this.approvals = approvals;
        this.policies = policies;
        this.reservations = reservations;
        this.quotes = quotes;
        this.reservationService = reservationService;
        this.providers = providers;
        this.clock = clock;
        this.abandonedAfter = properties.reservations().abandonedHoldAfter();
        this.providerTimeout = properties.market().providerTimeout();
    }

    @Override
    public Mono<Void> sweep() {
        return expireUnpaidHolds()
                .then(Mono.defer(approvals::expireOverdue))
                .then(Mono.defer(policies::releaseBudgetsOfClosedReservations))
                .then(releaseCapacityOfClosed())
                .then(cleanUpAbandonedClaims())
                .then(Mono.defer(() -> quotes.deleteUnreservedExpiredBefore(clock.instant().minus(QUOTE_RETENTION))))
                .then();
    }

    private Mono<Void> expireUnpaidHolds() {
        return Flux.defer(() -> reservations.findHeldExpiringBy(clock.instant(), BATCH_SIZE_MAX))
                .concatMap(reservation -> reservations.closeUnpaid(reservation.reservationId(), reservation.state(),
                                ReservationState.EXPIRED, "hold expired at " + reservation.holdExpiresAt() + " before payment",
                                clock.instant())
                        .filter(Boolean::booleanValue)
                        .doOnNext(expired -> log.info("Reservation {} expired unpaid; releasing its capacity at {}",
                                reservation.reservationId(), reservation.provider()))
                        .flatMap(expired -> release(reservation))
                        .onErrorResume(error -> logAndSkip(reservation, error)))
                .then();
    }

    private Mono<Void> releaseCapacityOfClosed() {
        return Flux.defer(() -> reservations.findClosedWithCapacityHeld(BATCH_SIZE_MAX))
                .concatMap(reservation -> release(reservation).onErrorResume(error -> logAndSkip(reservation, error)))
                .then();
    }

    private Mono<Void> cleanUpAbandonedClaims() {
        return Flux.defer(() -> reservations.findPendingCreatedBefore(clock.instant().minus(abandonedAfter), BATCH_SIZE_MAX))
                .concatMap(pending -> releaseAtProvider(pending)
                        .then(reservationService.drop(pending))
                        .doOnSuccess(ignored -> log.warn("Reservation claim {} was abandoned before its hold was confirmed; "
                                + "released and removed", pending.reservationId()))
                        .onErrorResume(error -> logAndSkip(pending, error)))
                .then();
    }

    private Mono<Void> release(Reservation reservation) {
        return releaseAtProvider(reservation).then(reservations.markCapacityReleased(reservation.reservationId()));
    }

    private Mono<Void> releaseAtProvider(Reservation reservation) {
        ComputeProvider provider = providers.find(reservation.provider()).orElse(null);
        if (provider == null) {
            log.warn("Reservation {}: provider {} is no longer configured; nothing to release there",
                    reservation.reservationId(), reservation.provider());
            return Mono.empty();
        }
        return Mono.defer(() -> provider.holds().release(reservation.holdId())).timeout(providerTimeout);
    }

    private Mono<Void> logAndSkip(Reservation reservation, Throwable error) {
        log.warn("Timer step for reservation {} failed, will retry on the next sweep: {}", reservation.reservationId(),
                error.toString());
        return Mono.empty();
    }
}
