package dev.gpubroker.market;

import java.util.Optional;
import java.util.Set;

/** A quote call: the offer query, an optional restriction to some providers, and how many quotes to return. */
public record QuoteRequest(OfferQuery query, Optional<Set<String>> providers, int limit) {

    public QuoteRequest {
        if (limit <= 0) {
            throw new IllegalArgumentException("limit is positive");
        }
    }
}
