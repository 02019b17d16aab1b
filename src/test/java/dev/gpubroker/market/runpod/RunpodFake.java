package dev.gpubroker.market.runpod;

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

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.extension.ResponseDefinitionTransformerV2;
import com.github.tomakehurst.wiremock.http.ResponseDefinition;
import com.github.tomakehurst.wiremock.stubbing.ServeEvent;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;

import dev.gpubroker.market.ProviderContract;
import dev.gpubroker.market.remote.ReadinessProbe;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * RunPod REST API v2 on a WireMock server, answering with the shapes of the fixtures in
 * {@code src/test/resources/providers/runpod/} (see its README for the document they follow). The catalog and the
 * error answers are plain stubs; the pods are a small scripted store (the pod list must carry the name the create gave,
 * which a static stub cannot): each pod goes through {@link #lifecycle} one step per read of it (in the pod list, or by its id), and its log
 * stream carries {@link #logLines} once it runs. Fault stubs sit at a higher priority than the store.
 */
final class RunpodFake implements AutoCloseable {

    static final String API_KEY = "rpa_TESTKEY0123456789abcdefSECRET";
    static final String H100_PROBE = ReadinessProbe.PREFIX + "NVIDIA H100 80GB HBM3, 81559;";

    private static final JsonMapper JSON = JsonMapper.builder().build();

    final WireMockServer server;
    private final Map<String, FakePod> pods = new LinkedHashMap<>();
    private List<String> lifecycle = List.of("PROVISIONING", "STARTING", "RUNNING");
    private List<String> logLines = List.of(H100_PROBE, ProviderContract.MARKER);
    private Instant createdAt;

    private final class FakePod {
        final ObjectNode json;
        int reads;

        FakePod(ObjectNode json) {
            this.json = json;
        }
    }

    RunpodFake() {
        server = new WireMockServer(wireMockConfig().dynamicPort().extensions(new PodStore()));
        server.start();
        reset();
    }

    /** The base URL the provider is given: the server's root plus RunPod's {@code /v2}. */
    String baseUrl() {
        return server.baseUrl() + "/v2";
    }

    /** Back to a well-behaved RunPod: the catalog stubs, no pods, no faults, the default lifecycle and logs. */
    synchronized void reset() {
        server.resetAll();
        pods.clear();
        lifecycle = List.of("PROVISIONING", "STARTING", "RUNNING");
        logLines = List.of(H100_PROBE, ProviderContract.MARKER);
        createdAt = null;
        for (String cloud : List.of("SECURE", "COMMUNITY")) {
            server.stubFor(get(urlPathEqualTo("/v2/catalog/gpus")).withQueryParam("cloud", equalTo(cloud)).atPriority(5)
                    .willReturn(json(200, fixture("catalog-gpus-" + cloud.toLowerCase() + ".json"))));
        }
        server.stubFor(any(urlPathMatching("/v2/pods(/.*)?")).atPriority(10)
                .willReturn(aResponse().withTransformers(PodStore.NAME)));
    }

    /** The statuses each new pod goes through, one per read of it; it stays at the last. */
    synchronized void lifecycle(String... statuses) {
        lifecycle = List.of(statuses);
    }

    /** What each running pod's container prints (the probe line first, normally). */
    synchronized void logLines(String... lines) {
        logLines = List.of(lines);
    }

    /** New pods say they were created at this time (a pod stuck since long ago). */
    synchronized void createdAt(Instant at) {
        createdAt = at;
    }

    static String fixture(String name) {
        try (InputStream in = RunpodFake.class.getResourceAsStream("/providers/runpod/" + name)) {
            if (in == null) {
                throw new IllegalArgumentException("no fixture " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static ResponseDefinitionBuilder json(int status, String body) {
        return aResponse().withStatus(status)
                .withHeader("Content-Type", status >= 400 ? "application/problem+json" : "application/json")
                .withBody(body);
    }

    @Override
    public void close() {
        server.stop();
    }

    /** The pods endpoints: list, create, get, delete, logs. */
    private final class PodStore implements ResponseDefinitionTransformerV2 {

        static final String NAME = "runpod-pods";

        @Override
        public String getName() {
            return NAME;
        }

        @Override
        public boolean applyGlobally() {
            return false;
        }

        @Override
        public ResponseDefinition transform(ServeEvent serveEvent) {
            synchronized (RunpodFake.this) {
                LoggedRequest request = serveEvent.getRequest();
                String path = request.getUrl().replaceFirst("\\?.*$", "");
                String method = request.getMethod().getName();
                if (path.equals("/v2/pods") && method.equals("GET")) {
                    return list();
                }
                if (path.equals("/v2/pods") && method.equals("POST")) {
                    return create(request.getBodyAsString());
                }
                if (path.matches("/v2/pods/[^/]+/logs") && method.equals("GET")) {
                    return logs(path.split("/")[3], request);
                }
                if (path.matches("/v2/pods/[^/]+") && method.equals("GET")) {
                    FakePod pod = pods.get(path.split("/")[3]);
                    return pod == null ? notFound() : json(200, JSON.writeValueAsString(step(pod))).build();
                }
                if (path.matches("/v2/pods/[^/]+") && method.equals("DELETE")) {
                    String id = path.split("/")[3];
                    boolean removed = pods.values().removeIf(pod -> pod.json.path("id").asString().equals(id));
                    return removed ? ResponseDefinitionBuilder.responseDefinition().withStatus(204).build() : notFound();
                }
                return notFound();
            }
        }

        private ResponseDefinition list() {
            ObjectNode answer = JSON.createObjectNode();
            var array = answer.putArray("pods");
            for (FakePod pod : pods.values()) {
                array.add(step(pod));
            }
            return json(200, JSON.writeValueAsString(answer)).build();
        }

        /** The pod's next status in the lifecycle: each read of the pod (in the list, or by its id) is one step. */
        private ObjectNode step(FakePod pod) {
            String status = lifecycle.get(Math.min(pod.reads, lifecycle.size() - 1));
            pod.reads++;
            pod.json.put("status", status);
            if (status.equals("RUNNING") && pod.json.path("startedAt").isNull()) {
                pod.json.put("startedAt", Instant.now().toString());
            }
            return pod.json;
        }

        private ResponseDefinition create(String body) {
            JsonNode request = JSON.readTree(body);
            ObjectNode pod = (ObjectNode) JSON.readTree(fixture("pod.json"));
            String id = UUID.randomUUID().toString().replace("-", "").substring(0, 10);
            pod.put("id", id);
            pod.put("name", request.path("name").asString());
            pod.put("image", request.path("image").asString());
            pod.put("args", request.path("args").asString(""));
            pod.set("env", request.path("env"));
            pod.set("gpu", request.path("gpu"));
            pod.put("cloud", request.path("cloud").asString("SECURE"));
            pod.put("status", "PROVISIONING");
            pod.put("createdAt", (createdAt == null ? Instant.now() : createdAt).toString());
            pod.putNull("startedAt");
            pods.put(id, new FakePod(pod));
            return json(201, JSON.writeValueAsString(pod)).build();
        }

        /** Server-sent events as the document's example: {@code id: <ts>/<sequence>} and {@code data: {ts, source, line}}. */
        private ResponseDefinition logs(String id, LoggedRequest request) {
            FakePod pod = pods.get(id);
            if (pod == null) {
                return notFound();
            }
            List<String> events = new ArrayList<>();
            if (pod.json.path("status").asString().equals("RUNNING") || pod.json.path("status").asString().equals("EXITED")) {
                Instant start = Instant.parse(pod.json.path("createdAt").asString());
                for (int index = 0; index < logLines.size(); index++) {
                    String ts = start.plusSeconds(index + 1).toString();
                    ObjectNode data = JSON.createObjectNode().put("ts", ts).put("source", "container")
                            .put("line", logLines.get(index));
                    events.add("id: " + ts + "/" + String.format("%012d", index + 1) + "\ndata: "
                            + JSON.writeValueAsString(data) + "\n\n");
                }
            }
            String lastEventId = request.getHeader("Last-Event-ID");
            if (lastEventId != null) {
                int after = events.size();
                for (int index = 0; index < events.size(); index++) {
                    if (events.get(index).startsWith("id: " + lastEventId + "\n")) {
                        after = index + 1;
                    }
                }
                events = events.subList(Math.min(after, events.size()), events.size());
            } else if (request.queryParameter("tail").isPresent()) {
                int tail = Integer.parseInt(request.queryParameter("tail").firstValue());
                events = events.subList(Math.max(0, events.size() - tail), events.size());
            }
            return aResponse().withStatus(200).withHeader("Content-Type", "text/event-stream")
                    .withHeader("Cache-Control", "no-cache").withBody(String.join("", events)).build();
        }

        private ResponseDefinition notFound() {
            return json(404, "{\"title\":\"Not Found\",\"status\":404,\"detail\":\"pod not found\"}").build();
        }
    }
}
