package dev.gpubroker.market;

import java.util.List;

import reactor.core.publisher.Mono;

/** What every provider offers: a name and, for a query, the offers that could serve it now. */
public interface OfferSource {

    /** A stable, unique name such as {@code demo-nimbus} or {@code runpod}; it appears in quotes and in filters. */
    String name();

    /**
     * The offers that could serve this query now; an empty list when none fits. A provider that cannot answer
     * signals a {@link ProviderUnavailableException} naming its {@link ProviderFault}.
     */
    Mono<List<Offer>> offers(OfferQuery query);
}
