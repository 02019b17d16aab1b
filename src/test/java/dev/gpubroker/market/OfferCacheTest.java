package dev.gpubroker.market;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import dev.gpubroker.money.PricePerGpuHour;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** Many agents asking a real provider at once cost one upstream call per TTL, and a provider's Retry-After is kept. */
class OfferCacheTest {

    private static final OfferQuery ONE_H100 = new OfferQuery("H100", 1, 60, Optional.empty(), Optional.empty(),
            Optional.empty(), Optional.empty());

    private final OfferCache cache = new OfferCache(Clock.systemUTC());

    @Test
    void twoHundredConcurrentAgentsCostOneUpstreamCallAndAllGetTheAnswer() {
        CountingProvider provider = new CountingProvider("remote-a", Duration.ofSeconds(30), Duration.ofMillis(200));

        List<List<Offer>> answers = Flux.range(0, 200)
                .flatMap(agent -> cache.offers(provider, ONE_H100), 200)
                .collectList().block(Duration.ofSeconds(10));

        assertThat(answers).hasSize(200).allSatisfy(offers -> assertThat(offers).hasSize(1));
        assertThat(provider.calls.get()).isEqualTo(1);
    }

    @Test
    void anAnswerIsServedUntilItsTtlEndsThenAskedAgain() throws InterruptedException {
        CountingProvider provider = new CountingProvider("remote-b", Duration.ofMillis(300), Duration.ZERO);

        cache.offers(provider, ONE_H100).block(Duration.ofSeconds(5));
        cache.offers(provider, ONE_H100).block(Duration.ofSeconds(5));
        assertThat(provider.calls.get()).isEqualTo(1);

        Thread.sleep(450);
        cache.offers(provider, ONE_H100).block(Duration.ofSeconds(5));
        assertThat(provider.calls.get()).isEqualTo(2);
    }

    @Test
    void aMarketWhoseCapacityMovesWithEachHoldIsAskedEveryTime() {
        CountingProvider demo = new CountingProvider("demo-x", Duration.ZERO, Duration.ZERO);

        for (int i = 0; i < 3; i++) {
            cache.offers(demo, ONE_H100).block(Duration.ofSeconds(5));
        }

        assertThat(demo.calls.get()).isEqualTo(3);
    }

    @Test
    void aFailureIsNotKeptButARetryAfterIsHonouredWithoutAskingAgain() {
        CountingProvider provider = new CountingProvider("remote-c", Duration.ofSeconds(30), Duration.ZERO);
        provider.failure = new ProviderUnavailableException(new ProviderFault.Transient("HTTP 503"));

        StepVerifier.create(cache.offers(provider, ONE_H100)).expectError(ProviderUnavailableException.class).verify();
        StepVerifier.create(cache.offers(provider, ONE_H100)).expectError(ProviderUnavailableException.class).verify();
        assertThat(provider.calls.get()).as("a failure without Retry-After is asked again").isEqualTo(2);

        provider.failure = new ProviderUnavailableException(new ProviderFault.Transient("HTTP 429",
                Optional.of(Duration.ofSeconds(60))));
        StepVerifier.create(cache.offers(provider, ONE_H100)).expectError(ProviderUnavailableException.class).verify();
        provider.failure = null;
        StepVerifier.create(cache.offers(provider, ONE_H100))
                .expectErrorSatisfies(error -> assertThat(error).hasMessage("HTTP 429")).verify();
        assertThat(provider.calls.get()).as("not asked again before its Retry-After").isEqualTo(3);
    }

    @Test
    void aRefusedAccountIsNotAskedAgainForAWhile() {
        CountingProvider provider = new CountingProvider("remote-d", Duration.ofSeconds(30), Duration.ZERO);
        provider.failure = new ProviderUnavailableException(new ProviderFault.QuotaOrAuth("HTTP 401: bad key"));

        for (int i = 0; i < 3; i++) {
            StepVerifier.create(cache.offers(provider, ONE_H100))
                    .expectErrorSatisfies(error -> assertThat(error).hasMessage("HTTP 401: bad key")).verify();
        }

        assertThat(provider.calls.get()).isEqualTo(1);
    }

    /** A provider that counts the upstream calls it answers. */
    private static final class CountingProvider implements ComputeProvider {

        final AtomicInteger calls = new AtomicInteger();
        private final String name;
        private final Duration ttl;
        private final Duration answerTime;
        volatile ProviderUnavailableException failure;

        CountingProvider(String name, Duration ttl, Duration answerTime) {
            this.name = name;
            this.ttl = ttl;
            this.answerTime = answerTime;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public Duration offerTtl() {
            return ttl;
        }

        @Override
        public Mono<List<Offer>> offers(OfferQuery query) {
            return Mono.defer(() -> {
                calls.incrementAndGet();
                if (failure != null) {
                    return Mono.error(failure);
                }
                return Mono.delay(answerTime).thenReturn(List.of(new Offer(name, "h100", "H100", 80, "eu",
                        PricePerGpuHour.parse("2.00"), 4, 0.99)));
            });
        }

        @Override
        public CapacityHolds holds() {
            return new RecheckedOffers(this);
        }

        @Override
        public Mono<LaunchOutcome> launch(LaunchRequest request) {
            return Mono.error(new UnsupportedOperationException());
        }

        @Override
        public Mono<JobStatus> status(String jobId) {
            return Mono.error(new UnsupportedOperationException());
        }

        @Override
        public Mono<LogPage> logs(String jobId, String cursor, int limit) {
            return Mono.error(new UnsupportedOperationException());
        }

        @Override
        public Mono<Void> terminate(String jobId) {
            return Mono.empty();
        }
    }
}
