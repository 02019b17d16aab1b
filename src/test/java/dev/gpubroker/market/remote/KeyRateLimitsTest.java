package dev.gpubroker.market.remote;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.web.reactive.function.client.WebClient;

import com.github.tomakehurst.wiremock.WireMockServer;

import dev.gpubroker.market.ProviderFault;
import dev.gpubroker.market.ProviderUnavailableException;
import reactor.test.StepVerifier;

/** Past the broker's own bound, a call to a provider is not sent and says when the next may go; per key. */
class KeyRateLimitsTest {

    private final WireMockServer server = new WireMockServer(wireMockConfig().dynamicPort());
    private final WebClient.Builder limited = WebClient.builder().filter(new KeyRateLimits(3));

    @BeforeEach
    void start() {
        server.start();
        server.stubFor(get(urlEqualTo("/v1/types")).willReturn(okJson("{\"types\":[]}")));
    }

    @AfterEach
    void stop() {
        server.stop();
    }

    @Test
    void theFourthCallInAMinuteIsNotSentAndFailsAsTransientWithTheWait() {
        RemoteApi api = api("key-one");
        for (int call = 0; call < 3; call++) {
            StepVerifier.create(api.get("/types")).expectNextCount(1).verifyComplete();
        }

        StepVerifier.create(api.get("/types")).expectErrorSatisfies(error -> {
            ProviderFault fault = ((ProviderUnavailableException) error).providerFault();
            assertThat(fault).isInstanceOfSatisfying(ProviderFault.Transient.class, transientFault -> {
                assertThat(transientFault.reason()).contains("limit of 3 calls a minute").doesNotContain("key-one");
                assertThat(transientFault.retryAfter()).hasValueSatisfying(wait ->
                        assertThat(wait).isPositive().isLessThanOrEqualTo(Duration.ofMinutes(1)));
            });
        }).verify(Duration.ofSeconds(30));
        server.verify(3, getRequestedFor(urlEqualTo("/v1/types")));
    }

    @Test
    void aDeleteThatStopsSpendingIsNeverHeldBack() {
        server.stubFor(com.github.tomakehurst.wiremock.client.WireMock.delete(urlEqualTo("/v1/pods/p1"))
                .willReturn(com.github.tomakehurst.wiremock.client.WireMock.noContent()));
        RemoteApi api = api("key-one");
        for (int call = 0; call < 3; call++) {
            api.get("/types").block(Duration.ofSeconds(30));
        }

        StepVerifier.create(api.delete("/pods/p1")).verifyComplete();
        server.verify(1, com.github.tomakehurst.wiremock.client.WireMock.deleteRequestedFor(urlEqualTo("/v1/pods/p1")));
    }

    @Test
    void anotherKeyHasItsOwnBound() {
        RemoteApi first = api("key-one");
        for (int call = 0; call < 3; call++) {
            first.get("/types").block(Duration.ofSeconds(30));
        }

        StepVerifier.create(api("key-two").get("/types")).expectNextCount(1).verifyComplete();
        server.verify(4, getRequestedFor(urlEqualTo("/v1/types")));
    }

    private RemoteApi api(String key) {
        return new RemoteApi("acme", limited, server.baseUrl() + "/v1", new ApiKey(key, "test"), RemoteApi.KeyHeader.BEARER,
                RemoteApi.Settings.DEFAULT, ErrorReading.NONE);
    }
}
