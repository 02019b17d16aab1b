package dev.gpubroker.bench;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.springframework.web.reactive.function.client.WebClient;

import com.github.tomakehurst.wiremock.WireMockServer;

import dev.gpubroker.market.CapacityHolds;
import dev.gpubroker.market.ComputeProvider;
import dev.gpubroker.market.JobStatus;
import dev.gpubroker.market.LaunchOutcome;
import dev.gpubroker.market.LaunchRequest;
import dev.gpubroker.market.LogPage;
import dev.gpubroker.market.Offer;
import dev.gpubroker.market.OfferCache;
import dev.gpubroker.market.OfferQuery;
import dev.gpubroker.market.RecheckedOffers;
import dev.gpubroker.market.remote.ApiKey;
import dev.gpubroker.market.remote.ErrorReading;
import dev.gpubroker.market.remote.RemoteApi;
import dev.gpubroker.money.PricePerGpuHour;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Quotes over many real providers through the offer cache: 8 provider APIs (real HTTP, WireMock) that each answer
 * in 200 ms, asked by 200 agents at once, round after round within the cache's TTL. Prints the quote latency
 * (the fan-out over the 8 providers through the cache, as QuoteService does it, without the database insert) next
 * to a single agent's on a warm cache, and the upstream calls each provider got per TTL. Prints numbers; not a test:
 *
 * <pre>mvn -q test-compile exec:java -Dexec.mainClass=dev.gpubroker.bench.OfferCacheBenchmark -Dexec.classpathScope=test</pre>
 */
public final class OfferCacheBenchmark {

    private static final int PROVIDERS = 8;
    private static final int AGENTS = 200;
    private static final int ROUNDS = 10;
    private static final Duration ANSWER_TIME = Duration.ofMillis(200);
    private static final Duration TTL = Duration.ofSeconds(20);
    private static final OfferQuery QUERY = OfferQuery.any(1);

    public static void main(String[] args) {
        WireMockServer api = new WireMockServer(wireMockConfig().dynamicPort().containerThreads(64));
        api.start();
        try {
            List<ComputeProvider> providers = new ArrayList<>();
            for (int i = 0; i < PROVIDERS; i++) {
                api.stubFor(get(urlEqualTo("/p" + i + "/offers")).willReturn(aResponse()
                        .withFixedDelay((int) ANSWER_TIME.toMillis())
                        .withHeader("Content-Type", "application/json")
                        .withBody("{\"offers\":[{\"id\":\"h100-" + i + "\",\"price\":\"2." + i + "0\",\"free\":8}]}")));
                providers.add(new HttpProvider("fake-" + i, new RemoteApi("fake-" + i, WebClient.builder(),
                        api.baseUrl() + "/p" + i, new ApiKey("bench-key", "benchmark"), RemoteApi.KeyHeader.BEARER,
                        RemoteApi.Settings.DEFAULT, ErrorReading.NONE)));
            }
            OfferCache cache = new OfferCache(Clock.systemUTC());

            long[] first = round(cache, providers);
            List<Long> warm = new ArrayList<>();
            for (int round = 1; round < ROUNDS; round++) {
                for (long nanos : round(cache, providers)) {
                    warm.add(nanos);
                }
            }
            long[] single = new long[1000];
            for (int i = 0; i < single.length; i++) {
                long start = System.nanoTime();
                quote(cache, providers).block(Duration.ofSeconds(30));
                single[i] = System.nanoTime() - start;
            }

            System.out.printf("Offer cache: %d providers answering in %d ms, TTL %d s%n", PROVIDERS,
                    ANSWER_TIME.toMillis(), TTL.toSeconds());
            print("first round, " + AGENTS + " agents at once (cold cache)", first);
            print(AGENTS + " agents at once, " + (ROUNDS - 1) + " rounds (warm cache)",
                    warm.stream().mapToLong(Long::longValue).toArray());
            print("1 agent, 1000 quotes (warm cache)", single);
            for (int i = 0; i < PROVIDERS; i++) {
                int calls = api.countRequestsMatching(getRequestedFor(urlEqualTo("/p" + i + "/offers")).build()).getCount();
                System.out.printf("upstream calls to fake-%d within one TTL: %d%n", i, calls);
            }
        } finally {
            api.stop();
        }
        System.exit(0);
    }

    private static long[] round(OfferCache cache, List<ComputeProvider> providers) {
        return Flux.range(0, AGENTS)
                .flatMap(agent -> {
                    long start = System.nanoTime();
                    return quote(cache, providers).map(offers -> System.nanoTime() - start);
                }, AGENTS)
                .collectList().block(Duration.ofSeconds(60))
                .stream().mapToLong(Long::longValue).toArray();
    }

    /** What QuoteService does with the providers' answers: ask each through the cache at once, gather the offers. */
    private static Mono<List<Offer>> quote(OfferCache cache, List<ComputeProvider> providers) {
        return Flux.fromIterable(providers)
                .flatMap(provider -> cache.offers(provider, QUERY).timeout(Duration.ofSeconds(3)), providers.size())
                .flatMapIterable(offers -> offers)
                .collectList();
    }

    private static void print(String what, long[] nanos) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        System.out.printf("%-48s n=%5d  p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms%n", what, sorted.length,
                percentile(sorted, 0.50), percentile(sorted, 0.99), sorted[sorted.length - 1] / 1e6);
    }

    private static double percentile(long[] sorted, double p) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)] / 1e6;
    }

    /** A provider whose offers come from a real HTTP API (here WireMock), through the shared RemoteApi. */
    private record HttpProvider(String name, RemoteApi api) implements ComputeProvider {

        @Override
        public Duration offerTtl() {
            return TTL;
        }

        @Override
        public Mono<List<Offer>> offers(OfferQuery query) {
            return api.get("/offers").map(json -> {
                List<Offer> offers = new ArrayList<>();
                json.path("offers").forEach(offer -> offers.add(new Offer(name, offer.path("id").asString(), "H100", 80,
                        "eu", PricePerGpuHour.parse(offer.path("price").asString()), offer.path("free").asInt(), 0.99)));
                return offers;
            });
        }

        @Override
        public CapacityHolds holds() {
            return new RecheckedOffers(this);
        }

        @Override
        public Mono<LaunchOutcome> launch(LaunchRequest request) {
            return Mono.error(new UnsupportedOperationException("a benchmark of offers only"));
        }

        @Override
        public Mono<JobStatus> status(String jobId) {
            return Mono.error(new UnsupportedOperationException("a benchmark of offers only"));
        }

        @Override
        public Mono<LogPage> logs(String jobId, String cursor, int limit) {
            return Mono.error(new UnsupportedOperationException("a benchmark of offers only"));
        }

        @Override
        public Mono<Void> terminate(String jobId) {
            return Mono.empty();
        }
    }
}
