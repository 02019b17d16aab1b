package dev.gpubroker.market;

import java.util.List;

import reactor.core.publisher.Mono;

/**
 * One seller of GPU time behind one interface: a marketplace, a cloud, this host. Answers are normalised at the
 * edge into {@link Offer}s with explicit units. Failures of the provider itself (API down, malformed answer) are
 * signalled as {@link ProviderUnavailableException}; expected refusals are {@link HoldOutcome} values.
 * The caller bounds every call with a timeout, so an implementation may be slow but must never block a thread.
 * Launch, watch, logs and terminate join this interface with job execution.
 */
public interface ComputeProvider {

    /** A stable, unique name such as {@code demo-nimbus}; it appears in quotes and in {@code providers} filters. */
    String name();

    /** The offers that could serve this query now; an empty list when none fits. */
    Mono<List<Offer>> offers(OfferQuery query);

    /**
     * Holds capacity for a reservation. Idempotent by {@link HoldRequest#holdId()}: holding the same id again answers
     * the same outcome and holds nothing more.
     */
    Mono<HoldOutcome> hold(HoldRequest request);

    /** Releases a hold. Idempotent: releasing an unknown or released hold does nothing. */
    Mono<Void> release(String holdId);
}
