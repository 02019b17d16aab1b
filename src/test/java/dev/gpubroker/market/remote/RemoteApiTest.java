package dev.gpubroker.market.remote;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpMethod;
import org.springframework.web.reactive.function.client.WebClient;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.stubbing.Scenario;

import dev.gpubroker.market.ProviderFault;
import dev.gpubroker.market.ProviderUnavailableException;
import reactor.test.StepVerifier;

/** Every provider API failure is read into the right fault; safe calls are retried as the provider asks, creates never. */
class RemoteApiTest {

    private static final String KEY = "rpa_SECRET0123456789";

    private final WireMockServer server = new WireMockServer(wireMockConfig().dynamicPort());
    private RemoteApi api;

    @BeforeEach
    void start() {
        server.start();
        api = new RemoteApi("acme", WebClient.builder(), server.baseUrl() + "/v2", new ApiKey(KEY, "test"),
                RemoteApi.KeyHeader.BEARER, new RemoteApi.Settings(Duration.ofSeconds(5), 2, Duration.ofMillis(50),
                        Duration.ofSeconds(5)), ErrorReading.NONE);
    }

    @AfterEach
    void stop() {
        server.stop();
    }

    @Test
    void aRefusedKeyIsTheOperatorsAccountAndTheKeyAnEchoingProviderPrintsIsNeverRepeated() {
        server.stubFor(get(urlEqualTo("/v2/catalog")).willReturn(aResponse().withStatus(401)
                .withHeader("Content-Type", "application/json")
                .withBody("{\"error\":\"invalid api key " + KEY + "\"}")));

        StepVerifier.create(api.get("/catalog")).expectErrorSatisfies(error -> {
            ProviderFault fault = ((ProviderUnavailableException) error).providerFault();
            assertThat(fault).isInstanceOf(ProviderFault.QuotaOrAuth.class);
            assertThat(fault.reason()).contains("acme answered HTTP 401", "invalid api key [api key]").doesNotContain(KEY);
        }).verify();
        server.verify(1, getRequestedFor(urlEqualTo("/v2/catalog"))
                .withHeader("Authorization", com.github.tomakehurst.wiremock.client.WireMock.equalTo("Bearer " + KEY)));
    }

    @Test
    void aRateLimitIsWaitedOutAsTheProviderSaysThenTheAnswerComes() {
        server.stubFor(get(urlEqualTo("/v2/catalog")).inScenario("limit").whenScenarioStateIs(Scenario.STARTED)
                .willReturn(aResponse().withStatus(429).withHeader("Retry-After", "1")).willSetStateTo("open"));
        server.stubFor(get(urlEqualTo("/v2/catalog")).inScenario("limit").whenScenarioStateIs("open")
                .willReturn(okJson("{\"gpus\":[]}")));

        long start = System.nanoTime();
        StepVerifier.create(api.get("/catalog"))
                .assertNext(json -> assertThat(json.path("gpus").isArray()).isTrue())
                .verifyComplete();

        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(950));
        server.verify(2, getRequestedFor(urlEqualTo("/v2/catalog")));
    }

    @Test
    void aRetryAfterLongerThanTheBoundFailsAtOnceAndCarriesTheWait() {
        server.stubFor(get(urlEqualTo("/v2/catalog")).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "3600")));

        StepVerifier.create(api.get("/catalog")).expectErrorSatisfies(error -> assertThat(
                ((ProviderUnavailableException) error).providerFault()).isEqualTo(new ProviderFault.Transient(
                "acme answered HTTP 429", Optional.of(Duration.ofHours(1))))).verify(Duration.ofSeconds(5));
        server.verify(1, getRequestedFor(urlEqualTo("/v2/catalog")));
    }

    @Test
    void aServerErrorIsRetriedBoundedTimesOnSafeCallsButACreateIsTriedOnce() {
        server.stubFor(get(urlEqualTo("/v2/pods/p1")).willReturn(aResponse().withStatus(503)));
        server.stubFor(post(urlEqualTo("/v2/pods")).willReturn(aResponse().withStatus(503)));

        StepVerifier.create(api.get("/pods/p1")).expectErrorSatisfies(error -> assertThat(
                ((ProviderUnavailableException) error).providerFault()).isInstanceOf(ProviderFault.Transient.class)).verify();
        StepVerifier.create(api.sendOnce(HttpMethod.POST, "/pods", Map.of("name", "job_1")))
                .expectError(ProviderUnavailableException.class).verify();

        server.verify(3, getRequestedFor(urlEqualTo("/v2/pods/p1")));
        server.verify(1, postRequestedFor(urlEqualTo("/v2/pods")));
    }

    @Test
    void aMissingThingIsEmptyAndAnUnknownRefusalIsAProvisioningFailure() {
        server.stubFor(get(urlEqualTo("/v2/pods/gone")).willReturn(aResponse().withStatus(404)));
        server.stubFor(post(urlEqualTo("/v2/pods")).willReturn(aResponse().withStatus(422)
                .withHeader("Content-Type", "application/json").withBody("{\"message\":\"image is not a valid reference\"}")));

        StepVerifier.create(api.get("/pods/gone")).verifyComplete();
        StepVerifier.create(api.sendOnce(HttpMethod.POST, "/pods", Map.of("image", "::"))).expectErrorSatisfies(error ->
                assertThat(((ProviderUnavailableException) error).providerFault())
                        .isEqualTo(new ProviderFault.ProvisioningFailed("acme answered HTTP 422: image is not a valid reference")))
                .verify();
    }

    @Test
    void theProvidersOwnReadingComesFirst() {
        RemoteApi withReading = new RemoteApi("acme", WebClient.builder(), server.baseUrl() + "/v2", new ApiKey(KEY, "test"),
                RemoteApi.KeyHeader.X_API_KEY, RemoteApi.Settings.DEFAULT, (status, message) -> message.contains("no instances")
                        ? Optional.of(new ProviderFault.NoCapacity(message)) : Optional.empty());
        server.stubFor(post(urlEqualTo("/v2/pods")).willReturn(aResponse().withStatus(400)
                .withHeader("Content-Type", "application/json").withBody("{\"error\":\"There are no instances available\"}")));

        StepVerifier.create(withReading.sendOnce(HttpMethod.POST, "/pods", Map.of())).expectErrorSatisfies(error ->
                assertThat(((ProviderUnavailableException) error).providerFault())
                        .isEqualTo(new ProviderFault.NoCapacity("There are no instances available"))).verify();
        server.verify(postRequestedFor(urlEqualTo("/v2/pods"))
                .withHeader("X-API-KEY", com.github.tomakehurst.wiremock.client.WireMock.equalTo(KEY)));
    }
}
