package dev.gpubroker.market;

import reactor.core.publisher.Mono;

/**
 * Keeping capacity between {@code reserve} and {@code run}. A market that really holds capacity implements this
 * itself (the demo marketplace, this host); most real providers have no such thing, and theirs is
 * {@link RecheckedOffers}: nothing is held, price and availability are checked again at reserve.
 */
public interface CapacityHolds {

    /**
     * Holds capacity for a reservation. Idempotent by {@link HoldRequest#holdId()}: holding the same id again answers
     * the same outcome and holds nothing more.
     */
    Mono<HoldOutcome> hold(HoldRequest request);

    /** Releases a hold. Idempotent: releasing an unknown or released hold does nothing. */
    Mono<Void> release(String holdId);
}
