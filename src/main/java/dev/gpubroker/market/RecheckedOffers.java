package dev.gpubroker.market;

import java.util.Objects;

import reactor.core.publisher.Mono;

/**
 * The "holds" of a provider that has none (RunPod, Vast.ai, Shadeform and most real clouds): nothing is held, so at
 * reserve the offer is looked up again and taken only if it is still listed with enough free GPUs at no more than
 * the quoted price. The capacity can still be gone at launch; that is a {@link ProviderFault.NoCapacity} and the job
 * fails over, the agent paying nothing for it.
 */
public final class RecheckedOffers implements CapacityHolds {

    private final OfferSource offers;

    public RecheckedOffers(OfferSource offers) {
        this.offers = Objects.requireNonNull(offers, "offers");
    }

    @Override
    public Mono<HoldOutcome> hold(HoldRequest request) {
        OfferQuery any = OfferQuery.any(request.gpuCount());
        return offers.offers(any).map(listed -> listed.stream()
                .filter(offer -> offer.offerId().equals(request.offerId()))
                .findFirst()
                .<HoldOutcome>map(offer -> {
                    if (offer.availableGpus() < request.gpuCount()) {
                        return new HoldOutcome.NoCapacity(offers.name() + " has " + offer.availableGpus() + " free "
                                + offer.gpu() + " GPUs of offer " + offer.offerId() + " now, not " + request.gpuCount()
                                + " (it holds no capacity between quote and reserve)");
                    }
                    if (offer.price().compareTo(request.quotedPrice()) > 0) {
                        return new HoldOutcome.Unholdable("the price of offer " + offer.offerId() + " at "
                                + offers.name() + " rose from " + request.quotedPrice().toDecimalString() + " to "
                                + offer.price().toDecimalString() + " per GPU-hour since the quote");
                    }
                    return new HoldOutcome.Held(request.holdId());
                })
                .orElseGet(() -> new HoldOutcome.Unholdable("offer " + request.offerId() + " is no longer listed by "
                        + offers.name())));
    }

    /** Nothing was held. */
    @Override
    public Mono<Void> release(String holdId) {
        return Mono.empty();
    }
}
