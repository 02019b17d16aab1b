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
 * <p>
 * SSH keys: {@code GET /sshkeys} and {@code POST /sshkeys/add} keep the account's keys; an instance created with an
 * {@code ssh_key_id} lets that key in. When an instance becomes active its VM starts ({@link FakeVm}: an SSH server on
 * a loopback port, shown as {@code ip} and {@code ssh_port}, running the container's {@code args} for real); delete
 * stops it.
 */
final class ShadeformFake implements AutoCloseable {

    static final String API_KEY = "sf-test-key-7f3a9c";
    static final JsonMapper JSON = JsonMapper.builder().build();

    private static final Pattern INSTANCE_PATH = Pattern.compile("/v1/instances/([^/]+)/(info|delete|update)");

    /** What nvidia-smi prints ({@code name, memory.total} in MiB) for one GPU of each Shadeform gpu_type. */
    private static final Map<String, String> NVIDIA_SMI_NAMES = Map.of(
            "H100", "NVIDIA H100 80GB HBM3, 81559",
            "A100_80G", "NVIDIA A100 80GB PCIe, 81920",
            "A100", "NVIDIA A100-SXM4-40GB, 40960",
            "A6000", "NVIDIA RTX A6000, 49140",
            "GH200", "NVIDIA GH200 480GB, 97871");

    final WireMockServer server;
    private final Instances instances = new Instances();
    private final List<VmShell> shells = new ArrayList<>();

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

    /**
     * A provider against this fake, logging in to its VMs with the broker SSH key in {@code sshKeyFile} (made there
     * when absent); its SSH client closes with the fake.
     */
    ShadeformProvider provider(ShadeformSettings settings, java.math.BigDecimal markupPercent, java.time.Clock clock,
            java.nio.file.Path sshKeyFile) {
        VmShell shell = ShadeformProviders.shellFor(ShadeformSshKey.loadOrCreate(sshKeyFile), settings);
        synchronized (shells) {
            shells.add(shell);
        }
        return ShadeformProviders.create(settings, new dev.gpubroker.market.remote.ApiKey(API_KEY, "test"),
                new dev.gpubroker.market.remote.RemoteProvidersConfiguration.RemoteHttp(
                        org.springframework.web.reactive.function.client.WebClient.builder()),
                new dev.gpubroker.market.remote.ProviderPricing(markupPercent), clock, shell);
    }

    /** {@link #provider(ShadeformSettings, java.math.BigDecimal, java.time.Clock, java.nio.file.Path)} with one key for the whole test run. */
    ShadeformProvider provider(ShadeformSettings settings, java.math.BigDecimal markupPercent, java.time.Clock clock) {
        return provider(settings, markupPercent, clock, SharedKey.FILE);
    }

    /** One broker SSH key for the test JVM: an RSA key takes a while to make. */
    private static final class SharedKey {
        static final java.nio.file.Path FILE;

        static {
            try {
                java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("shadeform-ssh-key");
                dir.toFile().deleteOnExit();
                FILE = dir.resolve(ShadeformSshKey.FILE_NAME);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
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
        server.stubFor(any(urlPathMatching("/v1/(sshkeys(/add)?|instances(/create|/[^/]+/(info|delete|update))?)")).atPriority(60)
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

    /** What nvidia-smi lists on the VMs started from now on (one line per GPU), instead of the instance type's GPUs. */
    void gpusShown(String... lines) {
        instances.gpusShown = List.of(lines);
    }

    /** How long a VM takes to pull the image before its container starts. */
    void pullTime(java.time.Duration pull) {
        instances.pullTime = pull;
    }

    /** The VMs started from now on pull the image until {@code pulled} is counted down, however long that takes. */
    void holdPull(java.util.concurrent.CountDownLatch pulled) {
        instances.pullHeld = pulled;
    }

    /** The VM of the instance named {@code name}, once active. */
    FakeVm vm(String name) {
        return instances.vmNamed(name);
    }

    /** The account's SSH keys as Shadeform lists them. */
    List<JsonNode> sshKeys() {
        return instances.sshKeys();
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
        synchronized (shells) {
            shells.forEach(VmShell::close);
        }
        server.stop();
        instances.clear();
    }

    /** The instances endpoints, answered from memory with the fixture's shape. */
    private static final class Instances implements ResponseDefinitionTransformerV2 {

        static final String NAME = "shadeform-instances";

        private final Map<String, ObjectNode> byId = new LinkedHashMap<>();
        private final Map<String, Integer> reads = new LinkedHashMap<>();
        private final Map<String, FakeVm> vms = new LinkedHashMap<>();
        private final Map<String, ObjectNode> sshKeys = new LinkedHashMap<>();
        private List<String> lifecycle = List.of("pending_provider", "pending", "active");
        private java.time.Clock clock;
        private volatile List<String> gpusShown;
        private volatile java.time.Duration pullTime = java.time.Duration.ofMillis(300);
        private volatile java.util.concurrent.CountDownLatch pullHeld;

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
            vms.values().forEach(FakeVm::close);
            vms.clear();
            sshKeys.clear();
            gpusShown = null;
            lifecycle = List.of("pending_provider", "pending", "active");
        }

        synchronized FakeVm vmNamed(String name) {
            return byId.values().stream().filter(instance -> name.equals(instance.path("name").asString()))
                    .map(instance -> vms.get(instance.path("id").asString())).filter(java.util.Objects::nonNull)
                    .findFirst().orElseThrow(() -> new IllegalStateException("no VM runs for " + name));
        }

        synchronized List<JsonNode> sshKeys() {
            return List.copyOf(sshKeys.values());
        }

        /** The instance's VM boots: its SSH server answers at the address Shadeform shows, its container starts. */
        private void boot(ObjectNode instance) {
            String keyId = instance.path("ssh_key_id").asString();
            java.security.PublicKey authorized = null;
            if (sshKeys.containsKey(keyId)) {
                try {
                    authorized = org.apache.sshd.common.config.keys.PublicKeyEntry
                            .parsePublicKeyEntry(sshKeys.get(keyId).path("public_key").asString())
                            .resolvePublicKey(null, null, null);
                } catch (IOException | java.security.GeneralSecurityException e) {
                    throw new IllegalStateException("the fake cannot read its own SSH key " + keyId, e);
                }
            }
            JsonNode configuration = instance.path("configuration");
            List<String> gpus = gpusShown != null ? gpusShown : java.util.Collections.nCopies(
                    configuration.path("num_gpus").asInt(1),
                    NVIDIA_SMI_NAMES.getOrDefault(configuration.path("gpu_type").asString(), "NVIDIA H100 80GB HBM3, 81559"));
            JsonNode docker = instance.path("launch_configuration").path("docker_configuration");
            Map<String, String> envs = new LinkedHashMap<>();
            docker.path("envs").forEach(env -> envs.put(env.path("name").asString(), env.path("value").asString()));
            FakeVm vm = new FakeVm(authorized, gpus, docker.path("args").asString("true"), envs, pullTime, pullHeld);
            vms.put(instance.path("id").asString(), vm);
            instance.put("ip", "127.0.0.1");
            instance.put("ssh_port", vm.port());
        }

        private void shutDown(String id) {
            FakeVm vm = vms.remove(id);
            if (vm != null) {
                vm.close();
            }
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
            if (method.equals("GET") && path.equals("/v1/sshkeys")) {
                ArrayNode listed = JSON.createArrayNode();
                sshKeys.values().forEach(listed::add);
                ObjectNode answer = JSON.createObjectNode();
                answer.set("ssh_keys", listed);
                return ok(answer);
            }
            if (method.equals("POST") && path.equals("/v1/sshkeys/add")) {
                JsonNode body = JSON.readTree(event.getRequest().getBodyAsString());
                ObjectNode key = JSON.createObjectNode();
                key.put("id", UUID.randomUUID().toString());
                key.put("name", body.path("name").asString());
                key.put("public_key", body.path("public_key").asString());
                key.put("is_default", false);
                sshKeys.put(key.path("id").asString(), key);
                ObjectNode answer = JSON.createObjectNode();
                answer.put("id", key.path("id").asString());
                return ok(answer);
            }
            if (method.equals("POST") && path.equals("/v1/instances/create")) {
                JsonNode body = JSON.readTree(event.getRequest().getBodyAsString());
                ObjectNode created = create(body.path("name").asString(), lifecycle.get(0));
                for (String field : new String[] {"cloud", "region", "shade_instance_type", "launch_configuration",
                        "auto_delete", "tags", "ssh_key_id"}) {
                    if (body.has(field)) {
                        created.set(field, body.get(field));
                    }
                }
                configurationOf(body.path("cloud").asString(), body.path("shade_instance_type").asString())
                        .ifPresent(configuration -> created.set("configuration", configuration));
                if (created.path("status").asString().equals("active")) {
                    boot(created);
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
            if (matcher.group(2).equals("update")) {
                // UpdateRequest: a field present replaces the instance's, a null one deletes it, one absent stays.
                JsonNode body = JSON.readTree(event.getRequest().getBodyAsString());
                for (String field : new String[] {"name", "auto_delete", "alert", "tags"}) {
                    if (body.has(field)) {
                        instance.set(field, body.get(field));
                    }
                }
                return new ResponseDefinition(200, "");
            }
            if (matcher.group(2).equals("delete")) {
                if (!instance.path("status").asString().equals("deleting")) {
                    shutDown(id);
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
                if (status.equals("error")) {
                    shutDown(id);
                }
            }
            if (status.equals("active") && !vms.containsKey(id)) {
                boot(instance);
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

        private static java.util.Optional<JsonNode> configurationOf(String cloud, String shadeInstanceType) {
            for (JsonNode type : JSON.readTree(fixture("instance-types.json")).path("instance_types")) {
                if (type.path("cloud").asString().equals(cloud)
                        && type.path("shade_instance_type").asString().equals(shadeInstanceType)) {
                    return java.util.Optional.of(type.path("configuration"));
                }
            }
            return java.util.Optional.empty();
        }

        private static ResponseDefinition ok(JsonNode body) {
            return new ResponseDefinitionBuilder().withStatus(200).withHeader("Content-Type", "application/json")
                    .withBody(JSON.writeValueAsString(body)).build();
        }
    }

    /** The update requests the fake saw, as JSON. */
    List<JsonNode> updateRequests() {
        List<JsonNode> bodies = new ArrayList<>();
        server.getAllServeEvents().stream()
                .filter(event -> event.getRequest().getUrl().endsWith("/update"))
                .forEach(event -> bodies.add(JSON.readTree(event.getRequest().getBodyAsString())));
        return bodies;
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
