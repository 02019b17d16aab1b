package dev.gpubroker.market;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeoutException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;

import dev.gpubroker.config.BrokerProperties;
import dev.gpubroker.market.QuoteBoard.UnavailableProvider;
import dev.gpubroker.metrics.ProviderMetrics;
import dev.gpubroker.money.Usdc;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Asks every enabled provider at once, each under its own timeout, so a quote takes as long as the slowest provider
 * that answers in time rather than the sum. A provider that fails or times out is named with its reason, never
 * dropped silently. Quotes are persisted with a binding price and an expiry.
 */
@Service
public class QuoteService {

    private static final Logger log = LoggerFactory.getLogger(QuoteService.class);

    private final ProviderCatalog catalog;
    private final OfferRanking ranking;
    private final QuoteRepository quotes;
    private final Clock clock;
    private final Duration providerTimeout;
    private final Duration quoteTtl;
    private final ProviderMetrics metrics;
    private final OfferCache offerCache;

    public QuoteService(ProviderCatalog catalog, OfferRanking ranking, QuoteRepository quotes, Clock clock,
            BrokerProperties properties, ProviderMetrics metrics, OfferCache offerCache) {
        this.catalog = catalog;
        this.offerCache = offerCache;
        this.metrics = metrics;
        this.ranking = ranking;
        this.quotes = quotes;
        this.clock = clock;
        this.providerTimeout = properties.market().providerTimeout();
        this.quoteTtl = properties.quotes().ttl();
    }

    public Mono<QuoteBoard> quote(String agentId, QuoteRequest request) {
        return liveOffers(agentId, request).flatMap(board -> quotes.insertAll(board.quotes()).thenReturn(board));
    }

    /**
     * The same ranked answer as {@link #quote}, as quotes that are not persisted and so cannot be reserved: what a
     * failover chooses from.
     */
    public Mono<QuoteBoard> liveOffers(String agentId, QuoteRequest request) {
        return Mono.defer(() -> {
            List<UnavailableProvider> unavailable = new ArrayList<>();
            List<ComputeProvider> asked = selectProviders(request.providers().orElse(null), unavailable);
            return Flux.fromIterable(asked)
                    .flatMap(provider -> ask(provider, request.query()), Math.max(1, asked.size()))
                    .collectList()
                    .flatMap(answers -> {
                        List<Offer> offers = new ArrayList<>();
                        for (ProviderAnswer answer : answers) {
                            if (answer.failure() != null) {
                                unavailable.add(new UnavailableProvider(answer.provider(), answer.failure()));
                            } else {
                                answer.offers().stream().filter(request.query()::accepts).forEach(offers::add);
                            }
                        }
                        unavailable.sort(Comparator.comparing(UnavailableProvider::provider));
                        List<Quote> ranked = toQuotes(agentId, request.query(), offers).stream()
                                .sorted(ranking.order())
                                .limit(request.limit())
                                .toList();
                        return Mono.just(new QuoteBoard(ranked, List.copyOf(unavailable)));
                    });
        });
    }

    /** A quote the agent can still reserve, or empty when unknown or another agent's (the two look the same). */
    public Mono<Quote> findForAgent(String agentId, String quoteId) {
        return quotes.findById(quoteId).filter(quote -> quote.agentId().equals(agentId));
    }

    /** The quote a reservation was made from, whoever's it is: the offer and price the reservation is bound to. */
    public Mono<Quote> findById(String quoteId) {
        return quotes.findById(quoteId);
    }

    /**
     * Marks a quote as taken by a reservation. Only one reservation can ever take a quote: the update matches only
     * while it is untaken.
     */
    public Mono<QuoteClaim> markReserved(String quoteId, String reservationId) {
        return quotes.markReserved(quoteId, reservationId).map(took -> took
                ? new QuoteClaim.Taken(quoteId, reservationId) : new QuoteClaim.AlreadyTaken(quoteId));
    }

    /** Gives a quote back after the reservation that took it was dropped without ever holding anything. */
    public Mono<Void> clearReserved(String quoteId, String reservationId) {
        return quotes.clearReserved(quoteId, reservationId);
    }

    /** Removes the quotes that expired before {@code cutoff} and were never reserved; answers how many. */
    public Mono<Long> deleteUnreservedExpiredBefore(Instant cutoff) {
        return quotes.deleteUnreservedExpiredBefore(cutoff);
    }

    private List<ComputeProvider> selectProviders(Set<String> wanted, List<UnavailableProvider> unavailable) {
        if (wanted == null) {
            return catalog.all();
        }
        List<ComputeProvider> selected = new ArrayList<>();
        for (String name : wanted) {
            catalog.find(name).ifPresentOrElse(selected::add, () -> unavailable.add(new UnavailableProvider(name,
                    "unknown provider; known providers: " + catalog.all().stream().map(ComputeProvider::name).toList())));
        }
        return selected;
    }

    private Mono<ProviderAnswer> ask(ComputeProvider provider, OfferQuery query) {
        long startNanos = System.nanoTime();
        return offerCache.offers(provider, query)
                .timeout(providerTimeout)
                .map(offers -> {
                    metrics.quoteAnswered(provider.name(), Duration.ofNanos(System.nanoTime() - startNanos));
                    return ProviderAnswer.answered(provider.name(), offers);
                })
                .onErrorResume(error -> {
                    metrics.failed(provider.name(), ProviderMetrics.Operation.QUOTE, ProviderFaults.kindOf(error));
                    return Mono.just(ProviderAnswer.failed(provider.name(), describe(error)));
                })
                .doOnNext(answer -> {
                    if (answer.failure() != null) {
                        log.warn("Provider {} unavailable after {} ms: {}", provider.name(),
                                (System.nanoTime() - startNanos) / 1_000_000, answer.failure());
                    }
                });
    }

    private String describe(Throwable error) {
        if (error instanceof TimeoutException) {
            return "no answer within " + providerTimeout.toMillis() + " ms (timed out)";
        }
        if (error instanceof ProviderUnavailableException) {
            return error.getMessage();
        }
        log.error("Unexpected failure while asking a provider for offers", error);
        return "provider error: " + error.getClass().getSimpleName();
    }

    private List<Quote> toQuotes(String agentId, OfferQuery query, List<Offer> offers) {
        Instant now = clock.instant();
        Instant expiresAt = now.plus(quoteTtl);
        List<Quote> result = new ArrayList<>(offers.size());
        for (Offer offer : offers) {
            Usdc total = offer.price().costFor(query.gpuCount(), query.durationMinutes());
            result.add(new Quote("qt_" + UUID.randomUUID().toString().replace("-", ""), agentId, offer.provider(),
                    offer.offerId(), offer.gpu(), query.gpuCount(), offer.vramGb(), offer.region(), offer.price(),
                    query.durationMinutes(), total, ranking.expectedCost(total, offer.reliability()),
                    offer.reliability(), now, expiresAt));
        }
        return result;
    }

    private record ProviderAnswer(String provider, List<Offer> offers, String failure) {

        static ProviderAnswer answered(String provider, List<Offer> offers) {
            return new ProviderAnswer(provider, offers, null);
        }

        static ProviderAnswer failed(String provider, String reason) {
            return new ProviderAnswer(provider, List.of(), reason);
        }
    }
}
