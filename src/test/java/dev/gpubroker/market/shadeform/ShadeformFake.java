package dev.gpubroker.market.shadeform;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.extension.ResponseDefinitionTransformerV2;
import com.github.tomakehurst.wiremock.http.ResponseDefinition;
import com.github.tomakehurst.wiremock.stubbing.ServeEvent;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A fake of Shadeform's API (a real HTTP server, WireMock) answering with the shapes of its OpenAPI document (the
 * fixtures in src/test/resources/providers/shadeform, see the README there). The instances live in memory: create adds
 * one in "pending_provider", each {@code /info} read moves it one step along {@link #lifecycle(String...)} (by default
 * pending_provider → pending → active), delete moves it to "deleting" and the next read forgets it (deleted
 * instances are not listed and their info is 404). Requests without the key are refused with 401. Fault scenarios
 * put stubs of a higher priority in front.
 */
final class ShadeformFake implements AutoCloseable {

    static final String API_KEY = "sf-test-key-7f3a9c";
    static final JsonMapper JSON = JsonMapper.builder().build();

    private static final Pattern INSTANCE_PATH = Pattern.compile("/v1/instances/([^/]+)/(info|delete)");

    final WireMockServer server;
    private final Instances instances = new Instances();

    ShadeformFake() {
        this(java.time.Clock.systemUTC());
    }

    /** {@code clock}: Shadeform's own time (its created_at, active_at, deleted_at). */
    ShadeformFake(java.time.Clock clock) {
        instances.clock = clock;
        server = new WireMockServer(wireMockConfig().dynamicPort().extensions(instances));
        server.start();
        reset();
    }

    String baseUrl() {
        return server.baseUrl() + "/v1";
    }

    /** The catalog fixture, the instances endpoints, and a 401 for a request without the key. */
    void reset() {
        server.resetAll();
        instances.clear();
        server.stubFor(any(urlPathMatching("/v1/.*")).atPriority(100)
                .willReturn(aResponse().withStatus(401).withBody("Unauthorized")));
        server.stubFor(get(urlPathEqualTo("/v1/instances/types")).atPriority(50)
                .withHeader("X-API-KEY", equalTo(API_KEY))
                .willReturn(json(200, fixture("instance-types.json"))));
        server.stubFor(any(urlPathMatching("/v1/instances(/create|/[^/]+/(info|delete))?")).atPriority(60)
                .withHeader("X-API-KEY", equalTo(API_KEY))
                .willReturn(aResponse().withTransformers(Instances.NAME)));
    }

    /** The statuses an instance shows on successive info reads after its creation; the last one stays. */
    void lifecycle(String... statuses) {
        instances.lifecycle(List.of(statuses));
    }

    /** Sets an instance's fields as Shadeform would show them (e.g. {@code active_at} long ago). */
    void change(String name, String field, String value) {
        instances.change(name, field, value);
    }

    /** Adds an instance as if another broker (or an earlier try) had created it. */
    void existing(String name, String status) {
        instances.create(name, status);
    }

    static ResponseDefinitionBuilder json(int status, String body) {
        return aResponse().withStatus(status).withHeader("Content-Type", "application/json").withBody(body);
    }

    static String fixture(String name) {
        try (InputStream in = ShadeformFake.class.getResourceAsStream("/providers/shadeform/" + name)) {
            if (in == null) {
                throw new IllegalStateException("no fixture " + name);
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

    /** The instances endpoints, answered from memory with the fixture's shape. */
    private static final class Instances implements ResponseDefinitionTransformerV2 {

        static final String NAME = "shadeform-instances";

        private final Map<String, ObjectNode> byId = new LinkedHashMap<>();
        private final Map<String, Integer> reads = new LinkedHashMap<>();
        private List<String> lifecycle = List.of("pending_provider", "pending", "active");
        private java.time.Clock clock;

        @Override
        public String getName() {
            return NAME;
        }

        @Override
        public boolean applyGlobally() {
            return false;
        }

        synchronized void clear() {
            byId.clear();
            reads.clear();
            lifecycle = List.of("pending_provider", "pending", "active");
        }

        synchronized void lifecycle(List<String> statuses) {
            lifecycle = List.copyOf(statuses);
        }

        synchronized void change(String name, String field, String value) {
            byId.values().stream().filter(instance -> name.equals(instance.path("name").asString()))
                    .forEach(instance -> instance.put(field, value));
        }

        @Override
        public synchronized ResponseDefinition transform(ServeEvent event) {
            String method = event.getRequest().getMethod().getName();
            String path = event.getRequest().getUrl().replaceFirst("\\?.*$", "");
            if (method.equals("GET") && path.equals("/v1/instances")) {
                ArrayNode listed = JSON.createArrayNode();
                byId.values().forEach(listed::add);
                ObjectNode answer = JSON.createObjectNode();
                answer.set("instances", listed);
                return ok(answer);
            }
            if (method.equals("POST") && path.equals("/v1/instances/create")) {
                JsonNode body = JSON.readTree(event.getRequest().getBodyAsString());
                ObjectNode created = create(body.path("name").asString(), lifecycle.get(0));
                for (String field : new String[] {"cloud", "region", "shade_instance_type", "launch_configuration",
                        "auto_delete", "tags"}) {
                    if (body.has(field)) {
                        created.set(field, body.get(field));
                    }
                }
                ObjectNode answer = JSON.createObjectNode();
                answer.put("id", created.path("id").asString());
                return ok(answer);
            }
            Matcher matcher = INSTANCE_PATH.matcher(path);
            ObjectNode instance = matcher.matches() ? byId.get(matcher.group(1)) : null;
            if (instance == null) {
                return new ResponseDefinition(404, "instance not found");
            }
            String id = matcher.group(1);
            if (matcher.group(2).equals("delete")) {
                if (!instance.path("status").asString().equals("deleting")) {
                    instance.put("status", "deleting");
                    instance.put("status_details", "");
                    instance.put("deleted_at", clock.instant().toString());
                }
                return new ResponseDefinition(200, "");
            }
            if (instance.path("status").asString().equals("deleting")) {
                byId.remove(id);
                return ok(instance);
            }
            int read = reads.merge(id, 1, Integer::sum);
            String status = lifecycle.get(Math.min(read, lifecycle.size() - 1));
            if (!status.equals(instance.path("status").asString())) {
                instance.put("status", status);
                instance.put("status_details", status.equals("error") ? "provider reported host failure" : "");
                if (status.equals("active") && instance.path("active_at").isNull()) {
                    instance.put("active_at", clock.instant().toString());
                }
            }
            return ok(instance);
        }

        synchronized ObjectNode create(String name, String status) {
            ObjectNode instance = (ObjectNode) JSON.readTree(fixture("instance-info.json"));
            String id = UUID.randomUUID().toString();
            instance.put("id", id);
            instance.put("name", name);
            instance.put("status", status);
            instance.put("created_at", clock.instant().toString());
            if (status.equals("active")) {
                instance.put("active_at", clock.instant().toString());
            }
            byId.put(id, instance);
            return instance;
        }

        private static ResponseDefinition ok(JsonNode body) {
            return new ResponseDefinitionBuilder().withStatus(200).withHeader("Content-Type", "application/json")
                    .withBody(JSON.writeValueAsString(body)).build();
        }
    }

    /** The create requests the fake saw, as JSON. */
    List<JsonNode> createRequests() {
        List<JsonNode> bodies = new ArrayList<>();
        server.getAllServeEvents().stream()
                .filter(event -> event.getRequest().getUrl().equals("/v1/instances/create"))
                .forEach(event -> bodies.add(JSON.readTree(event.getRequest().getBodyAsString())));
        return bodies;
    }
}
