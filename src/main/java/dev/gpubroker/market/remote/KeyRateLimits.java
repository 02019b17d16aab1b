package dev.gpubroker.market.remote;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Optional;

import org.springframework.http.HttpHeaders;
import org.springframework.web.reactive.function.client.ClientRequest;
import org.springframework.web.reactive.function.client.ClientResponse;
import org.springframework.web.reactive.function.client.ExchangeFilterFunction;
import org.springframework.web.reactive.function.client.ExchangeFunction;

import dev.gpubroker.market.ProviderFault;
import dev.gpubroker.market.ProviderUnavailableException;
import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.github.resilience4j.ratelimiter.RateLimiterRegistry;
import io.github.resilience4j.ratelimiter.RequestNotPermitted;
import io.github.resilience4j.ratelimiter.internal.AtomicRateLimiter;
import io.github.resilience4j.reactor.ratelimiter.operator.RateLimiterOperator;
import reactor.core.publisher.Mono;

/**
 * The broker's own bound on calls to a provider's API with one key ({@code gpubroker.providers.calls-per-minute}),
 * whatever asks (quotes, launches, status polls, logs, from any part of this instance): a call past the bound is not
 * sent, and fails at once as {@link ProviderFault.Transient} with the wait until the next call may go, so that a busy
 * broker never gets the operator's account throttled or locked. Counted per API host and key (the key's SHA-256, never
 * the key); calls without a key (log downloads from a storage host) and calls that stop spending (deleting a
 * machine: {@link RemoteApi#stopSpending}) are not held back.
 */
public final class KeyRateLimits implements ExchangeFilterFunction {

    /** A request attribute: true on a call that stops spending (a delete), which is never held back. */
    public static final String STOPS_SPENDING = KeyRateLimits.class.getName() + ".stopsSpending";

    private final RateLimiterRegistry limiters;
    private final int callsPerMinute;

    public KeyRateLimits(int callsPerMinute) {
        if (callsPerMinute < 1 || callsPerMinute > 100_000) {
            throw new IllegalStateException("gpubroker.providers.calls-per-minute is between 1 and 100000, got "
                    + callsPerMinute);
        }
        this.callsPerMinute = callsPerMinute;
        this.limiters = RateLimiterRegistry.of(RateLimiterConfig.custom()
                .limitForPeriod(callsPerMinute)
                .limitRefreshPeriod(Duration.ofMinutes(1))
                .timeoutDuration(Duration.ZERO)
                .build());
    }

    @Override
    public Mono<ClientResponse> filter(ClientRequest request, ExchangeFunction next) {
        Optional<String> key = keyOf(request.headers());
        if (key.isEmpty() || Boolean.TRUE.equals(request.attribute(STOPS_SPENDING).orElse(false))) {
            return next.exchange(request);
        }
        String host = request.url().getHost() + ":" + request.url().getPort();
        RateLimiter limiter = limiters.rateLimiter(host + "/" + digest(key.get()));
        return Mono.defer(() -> next.exchange(request))
                .transformDeferred(RateLimiterOperator.of(limiter))
                .onErrorMap(RequestNotPermitted.class, refused -> new ProviderUnavailableException(
                        new ProviderFault.Transient("the broker's own limit of " + callsPerMinute + " calls a minute to "
                                + request.url().getHost() + " with the operator's key is reached",
                                Optional.of(waitOf(limiter)))));
    }

    /** Until the next call may go: the limiter's own count when it keeps one, else a whole period. */
    private static Duration waitOf(RateLimiter limiter) {
        if (limiter instanceof AtomicRateLimiter atomic) {
            long nanos = atomic.getDetailedMetrics().getNanosToWait();
            if (nanos > 0) {
                return Duration.ofNanos(nanos);
            }
        }
        return limiter.getRateLimiterConfig().getLimitRefreshPeriod();
    }

    private static Optional<String> keyOf(HttpHeaders headers) {
        String authorization = headers.getFirst(HttpHeaders.AUTHORIZATION);
        if (authorization != null && !authorization.isBlank()) {
            return Optional.of(authorization);
        }
        return Optional.ofNullable(headers.getFirst("X-API-KEY")).filter(value -> !value.isBlank());
    }

    private static String digest(String secret) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
