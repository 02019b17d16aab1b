package dev.gpubroker.market;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.springframework.stereotype.Component;

import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;

import reactor.core.publisher.Mono;

/**
 * Offers of providers that allow it ({@link ComputeProvider#offerTtl()} above zero: the real ones) served from a
 * short-lived cache, with single-flight refresh: however many agents ask the same provider the same question at
 * once, one upstream call answers them all, and one per TTL after that, which keeps the broker inside the
 * provider's rate limits. A provider that said when to come back ({@code Retry-After}) is not asked before then,
 * nor for a minute one that refused the operator's key or account: the same failure is answered meanwhile. Providers with a zero TTL (the demo marketplace, this host, whose
 * capacity changes with every hold) are asked every time.
 */
@Component
public class OfferCache {

    /** Bounds the cache: a key is a provider and a query, and agents choose the queries. */
    static final int ENTRIES_MAX = 10_000;
    /** How long a provider that refused the operator's key or account is not asked again. */
    static final Duration ACCOUNT_REFUSED_QUIET = Duration.ofMinutes(1);

    private final AsyncCache<Key, List<Offer>> offers;
    private final Map<String, Backoff> quietUntil = new ConcurrentHashMap<>();
    // Each provider's TTL, registered on its first use, read when an answer arrives.
    private final Map<String, Duration> ttls = new ConcurrentHashMap<>();
    private final Clock clock;

    private record Key(String provider, OfferQuery query) {
    }

    private record Backoff(Instant until, ProviderUnavailableException failure) {
    }

    public OfferCache(Clock clock) {
        this.clock = clock;
        this.offers = Caffeine.newBuilder()
                .maximumSize(ENTRIES_MAX)
                .expireAfter(Expiry.<Key, List<Offer>>creating((key, value) -> ttlOf(key)))
                .buildAsync();
    }

    private Duration ttlOf(Key key) {
        return ttls.getOrDefault(key.provider(), Duration.ZERO);
    }

    /** The provider's offers for this query: from the cache while fresh, else from one shared upstream call. */
    public Mono<List<Offer>> offers(ComputeProvider provider, OfferQuery query) {
        Duration ttl = provider.offerTtl();
        if (ttl.isZero() || ttl.isNegative()) {
            return Mono.defer(() -> provider.offers(query));
        }
        return Mono.defer(() -> {
            Backoff backoff = quietUntil.get(provider.name());
            if (backoff != null && clock.instant().isBefore(backoff.until())) {
                return Mono.error(backoff.failure());
            }
            ttls.putIfAbsent(provider.name(), ttl);
            // Single flight: the first caller's upstream call is the future every concurrent caller waits on. It
            // runs to its end even when that caller gives up (its own timeout), so the next caller gets its answer.
            return Mono.fromFuture(offers.get(new Key(provider.name(), query), (key, executor) ->
                            Mono.defer(() -> provider.offers(query))
                                    .doOnError(ProviderUnavailableException.class, failure -> rememberRetryAfter(provider, failure))
                                    .toFuture()),
                    true);
        });
    }

    private void rememberRetryAfter(ComputeProvider provider, ProviderUnavailableException failure) {
        switch (failure.providerFault()) {
            case ProviderFault.Transient transientFault when transientFault.retryAfter().isPresent() ->
                    quietUntil.put(provider.name(), new Backoff(clock.instant().plus(transientFault.retryAfter().get()),
                            failure));
            // The operator's key or account refused: asking again at once cannot help, and hammering a provider
            // with a bad key can get the account locked. The reason stays in unavailableProviders meanwhile.
            case ProviderFault.QuotaOrAuth refused ->
                    quietUntil.put(provider.name(), new Backoff(clock.instant().plus(ACCOUNT_REFUSED_QUIET), failure));
            default -> {
            }
        }
    }
}
