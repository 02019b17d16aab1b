package dev.gpubroker.market.vastai;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.delete;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicReference;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.extension.ResponseTransformerV2;
import com.github.tomakehurst.wiremock.http.Response;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import com.github.tomakehurst.wiremock.stubbing.ServeEvent;

import tools.jackson.databind.json.JsonMapper;

/**
 * A Vast.ai API on WireMock, answering with the fixtures in src/test/resources/providers/vastai/ (README.md there
 * names the document each follows). The fixtures say {@code __LABEL__} where Vast echoes the label a create sent
 * (the job id), {@code __NOW__} for a start date of now and {@code __FAKE_BASE__} for this server's address.
 */
final class VastaiFake implements AutoCloseable {

    static final String API = "/api/v0";
    static final String LIFECYCLE = "instance lifecycle";

    private final AtomicReference<String> label = new AtomicReference<>("");
    private final WireMockServer server;

    VastaiFake() {
        server = new WireMockServer(wireMockConfig().dynamicPort().extensions(new Echo()));
        server.start();
    }

    WireMockServer server() {
        return server;
    }

    String baseUrl() {
        return server.baseUrl() + API;
    }

    /** As if an instance labelled so had been created (for scenarios that start after the create). */
    void labelled(String jobId) {
        label.set(jobId);
    }

    void reset() {
        server.resetAll();
        label.set("");
    }

    /** The offer search, always answering the same offers. */
    void offers() {
        server.stubFor(post(urlPathEqualTo(API + "/bundles/")).willReturn(json("bundles.json")));
    }

    /**
     * The lifecycle of one instance: none → created (loading) → running (the probe's line, the job's start and the
     * contract's marker in its logs) → destroyed.
     */
    void lifecycle() {
        offers();
        server.stubFor(get(urlPathEqualTo(API + "/instances/")).inScenario(LIFECYCLE)
                .whenScenarioStateIs(Scenario.STARTED).willReturn(json("instances-empty.json")));
        server.stubFor(put(urlPathMatching(API + "/asks/\\d+/")).inScenario(LIFECYCLE)
                .whenScenarioStateIs(Scenario.STARTED).willReturn(json("create-ok.json")).willSetStateTo("loading"));
        server.stubFor(get(urlPathEqualTo(API + "/instances/")).inScenario(LIFECYCLE)
                .whenScenarioStateIs("loading").willReturn(json("instances-loading.json")).willSetStateTo("running"));
        server.stubFor(get(urlPathEqualTo(API + "/instances/")).inScenario(LIFECYCLE)
                .whenScenarioStateIs("running").willReturn(json("instances-running.json")));
        logs("logs-running.log");
        server.stubFor(delete(urlPathMatching(API + "/instances/\\d+/")).inScenario(LIFECYCLE)
                .willReturn(json("destroy-ok.json")).willSetStateTo("destroyed"));
        server.stubFor(get(urlPathEqualTo(API + "/instances/")).inScenario(LIFECYCLE)
                .whenScenarioStateIs("destroyed").willReturn(json("instances-empty.json")));
    }

    /** One instance in the state a fixture shows, with these logs; destroying it answers as Vast does. */
    void instance(String instancesFixture, String logsFixture) {
        server.stubFor(get(urlPathEqualTo(API + "/instances/")).willReturn(json(instancesFixture)));
        logs(logsFixture);
        server.stubFor(delete(urlPathMatching(API + "/instances/\\d+/")).willReturn(json("destroy-ok.json")));
    }

    void logs(String logsFixture) {
        server.stubFor(put(urlPathMatching(API + "/instances/request_logs/\\d+/?")).willReturn(json("request-logs.json")));
        server.stubFor(get(urlPathMatching("/vast-logs/instance_logs/\\d+\\.log"))
                .willReturn(aResponse().withStatus(200).withHeader("Content-Type", "binary/octet-stream")
                        .withBody(fixture(logsFixture))));
    }

    static ResponseDefinitionBuilder json(String fixture) {
        return json(200, fixture);
    }

    static ResponseDefinitionBuilder json(int status, String fixture) {
        return aResponse().withStatus(status).withHeader("Content-Type", "application/json").withBody(fixture(fixture));
    }

    static String fixture(String name) {
        try (InputStream in = VastaiFake.class.getResourceAsStream("/providers/vastai/" + name)) {
            if (in == null) {
                throw new IllegalArgumentException("no fixture " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        server.stop();
    }

    /** Vast echoes what a create sent: the label, remembered from the last {@code PUT /asks/}; and fills dates and addresses. */
    private final class Echo implements ResponseTransformerV2 {

        private static final JsonMapper JSON = JsonMapper.builder().build();

        @Override
        public Response transform(Response response, ServeEvent serveEvent) {
            String url = serveEvent.getRequest().getUrl();
            if (serveEvent.getRequest().getMethod().value().equals("PUT") && url.matches(API + "/asks/\\d+/")) {
                label.set(JSON.readTree(serveEvent.getRequest().getBodyAsString()).path("label").asString(""));
            }
            String body = response.getBodyAsString();
            if (body == null || !body.contains("__")) {
                return response;
            }
            return Response.Builder.like(response).but().body(body
                    .replace("__LABEL__", label.get())
                    .replace("__NOW__", Long.toString(Instant.now().getEpochSecond()))
                    .replace("__FAKE_BASE__", server.baseUrl())).build();
        }

        @Override
        public String getName() {
            return "vastai-echo";
        }
    }
}
