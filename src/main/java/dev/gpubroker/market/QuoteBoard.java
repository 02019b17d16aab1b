package dev.gpubroker.market;

import java.util.List;

/** The answer to a quote call: quotes best first, and every provider that could not answer, with the reason. */
public record QuoteBoard(List<Quote> quotes, List<UnavailableProvider> unavailableProviders) {

    public record UnavailableProvider(String provider, String reason) {
    }
}
