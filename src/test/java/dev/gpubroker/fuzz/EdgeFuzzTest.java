package dev.gpubroker.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import org.springframework.context.ApplicationContext;
import org.springframework.test.context.TestContextManager;

import dev.gpubroker.identity.AgentService;
import dev.gpubroker.policy.KillSwitch;
import dev.gpubroker.support.BrokerIntegrationTest;
import dev.gpubroker.support.RawHttp;
import dev.gpubroker.support.RawMcp;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Generated and broken requests against the real server, through its real HTTP transports: tool calls drawn from
 * tool-schemas/*.json and then broken, JSON-RPC messages of every shape, and admin requests drawn from the OpenAPI
 * document with random parameters, bodies and credentials. Whatever is sent, the answer comes within a bound, is never
 * a 5xx, holds no stack trace or Java type name, and a refusal is structured: a JSON-RPC error (naming the field for
 * invalid params), a tool error with code and message (and the field, for invalid arguments), or a problem naming
 * the field. It prints how many requests it sent.
 *
 * <p>MCP goes through the streamable HTTP transport with a raw JSON-RPC client ({@link RawMcp}); admin requests go
 * over raw sockets ({@link RawHttp}), so paths reach the server unnormalised. The server is the one the other
 * integration tests share (same Spring test configuration, so the same cached context when they run in one JVM).
 * stdio is not fuzzed here: it runs the same McpServerFactory and ToolRegistry behind a transport without HTTP.
 */
class EdgeFuzzTest extends BrokerIntegrationTest {

    private static final Duration BOUND = Duration.ofSeconds(10);
    private static final int REQUESTS_MIN = 10_000;
    private static final Pattern JAVA_NAME = Pattern.compile(
            "(java|javax|jdk|sun|tools\\.jackson|com\\.fasterxml|io\\.modelcontextprotocol|org\\.springframework|reactor|"
                    + "io\\.netty|io\\.r2dbc|org\\.h2|org\\.web3j|com\\.networknt|dev\\.gpubroker)\\.[a-z][\\w$]*\\.");
    private static final String EXTERNAL_WALLET = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";

    private static final AtomicLong requests = new AtomicLong();
    /** The properties that ran: the total is checked only when all of them did (not when one is run alone). */
    private static final Set<String> ran = ConcurrentHashMap.newKeySet();
    private static final int PROPERTIES = 3;
    private static final AtomicLong slowestMillis = new AtomicLong();
    private static long startedNanos;
    private static ApplicationContext context;
    private static JsonMapper json;
    private static URI base;
    private static String adminToken;
    private static String victimAgentId;
    private static Map<String, JsonNode> toolSchemas;
    private static List<AdminRoute> adminRoutes;
    private static RawMcp tools;
    private static RawMcp envelopes;
    private static HttpClient http;
    private static RawHttp raw;

    record ToolCall(String tool, String argumentsJson) {
        @Override
        public String toString() {
            return tool + " " + abbreviated(argumentsJson);
        }
    }

    record AdminRoute(String method, String template, List<String> queryParameters) {
    }

    record AdminRequest(String method, String path, String body, String contentType, String credential) {
        @Override
        public String toString() {
            return method + " " + path + " (" + (credential == null ? "no token" : credential.equals(adminToken) ? "token"
                    : "wrong token") + ") " + (body == null ? "" : abbreviated(body));
        }
    }

    @BeforeContainer
    static void startServer() throws Exception {
        startedNanos = System.nanoTime();
        context = new TestContextManager(EdgeFuzzTest.class).getTestContext().getApplicationContext();
        json = context.getBean(JsonMapper.class);
        base = URI.create("http://127.0.0.1:" + context.getEnvironment().getProperty("local.server.port"));
        Path dataDir = Path.of(context.getEnvironment().getProperty("gpubroker.data-dir"));
        adminToken = Files.readString(dataDir.resolve("admin.token")).strip();
        AgentService agents = context.getBean(AgentService.class);
        victimAgentId = agents.create("fuzz-victim", EXTERNAL_WALLET).block(BOUND).agent().agentId();
        http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(BOUND).build();
        raw = new RawHttp(Integer.parseInt(context.getEnvironment().getProperty("local.server.port")), BOUND);
        toolSchemas = new LinkedHashMap<>();
        try (var files = Files.list(projectDirectory().resolve("tool-schemas"))) {
            for (Path file : files.filter(path -> path.toString().endsWith(".json")).sorted().toList()) {
                JsonNode tool = json.readTree(Files.readString(file));
                toolSchemas.put(tool.path("name").stringValue(), tool.path("inputSchema"));
            }
        }
        adminRoutes = routesFromOpenApi();
        tools = new RawMcp(base, agents.create("fuzz-tools", EXTERNAL_WALLET).block(BOUND).apiKey(), json, BOUND).initialize();
        envelopes = new RawMcp(base, agents.create("fuzz-envelopes", EXTERNAL_WALLET).block(BOUND).apiKey(), json, BOUND)
                .initialize();
    }

    @AfterContainer
    static void report() {
        if (context == null) {
            return;
        }
        // The kill switch is shared by every test in this JVM: leave it as found.
        context.getBean(KillSwitch.class).set(false).block(BOUND);
        tools.close();
        envelopes.close();
        http.shutdownNow();
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - startedNanos);
        System.out.println("EdgeFuzzTest sent " + requests.get() + " requests in " + seconds + " s; the slowest answer took "
                + slowestMillis.get() + " ms");
        if (ran.size() == PROPERTIES) {
            assertThat(requests.get()).as("requests sent").isGreaterThanOrEqualTo(REQUESTS_MIN);
        }
    }

    @Property(tries = 3200)
    void aToolCallOfAnyShapeIsAnsweredCleanly(@ForAll("toolCalls") ToolCall call) {
        ran.add("tools");
        RawMcp.Answer answer = timed(() -> tools.post("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":"
                + "{\"name\":" + JsonText.of(call.tool()) + ",\"arguments\":" + call.argumentsJson() + "}}"));

        assertAnswered(answer);
        JsonNode message = answer.message();
        if (message.has("error")) {
            assertJsonRpcError(message.path("error"), answer);
            return;
        }
        JsonNode result = message.path("result");
        assertThat(result.path("isError").isBoolean()).as(answer.body()).isTrue();
        if (!result.path("isError").booleanValue()) {
            assertThat(result.path("structuredContent").isObject()).as(answer.body()).isTrue();
            return;
        }
        JsonNode error = json.readTree(result.path("content").path(0).path("text").asString()).path("error");
        assertThat(error.path("code").isString()).as(answer.body()).isTrue();
        assertThat(error.path("code").stringValue()).as(answer.body()).isNotEqualTo("internal_error");
        assertThat(error.path("message").isString()).as(answer.body()).isTrue();
        if (error.path("code").stringValue().equals("invalid_argument")) {
            assertThat(error.path("field").isString()).as("invalid_argument names the field: " + answer.body()).isTrue();
        }
    }

    @Property(tries = 4000)
    void aJsonRpcMessageOfAnyShapeIsAnsweredCleanly(@ForAll("messages") String body) {
        ran.add("messages");
        RawMcp.Answer answer = timed(() -> envelopes.post(body));

        if (answer.status() == 404 && answer.message() != null
                && answer.message().path("error").path("code").asInt() == -32001) {
            envelopes.initialize(); // the message opened enough sessions to retire this one; go on in a new one
            requests.addAndGet(2);
            return;
        }
        if (answer.status() == 202) {
            assertThat(answer.body()).isEmpty();
            return;
        }
        assertAnswered(answer);
        assertThat(answer.status()).as(answer.body()).isIn(200, 400, 406, 413);
        JsonNode message = answer.message();
        if (message.has("error")) {
            assertJsonRpcError(message.path("error"), answer);
        } else {
            assertThat(message.has("result")).as(answer.body()).isTrue();
        }
    }

    @Property(tries = 3000)
    void anAdminRequestOfAnyShapeIsAnsweredCleanly(@ForAll("adminRequests") AdminRequest request) throws Exception {
        ran.add("admin");
        Map<String, String> headers = new LinkedHashMap<>();
        if (request.contentType() != null) {
            headers.put("Content-Type", request.contentType());
        }
        if (request.credential() != null) {
            headers.put("Authorization", "Bearer " + request.credential());
        }
        // A target that is not even a URI (a bare '%') is refused by the HTTP layer with a bare 400, before the
        // application sees it; with a large body still on the wire the client may see the connection close instead.
        boolean validTarget = isUri(request.path());
        RawHttp.Response response = timed(() -> {
            try {
                return raw.send(request.method(), request.path(), headers, request.body());
            } catch (IOException e) {
                if (!validTarget) {
                    return new RawHttp.Response(400, Map.of(), "", false);
                }
                throw new AssertionError("no answer to " + request + ": " + e, e);
            }
        });
        if (!validTarget) {
            assertThat(response.status()).as(request.toString()).isBetween(400, 499);
            return;
        }

        String body = response.body();
        int status = response.status();
        assertThat(response.timedOut()).as("answered within " + BOUND + ": " + request).isFalse();
        assertThat(status).as(request + " -> " + body).isBetween(200, 499);
        assertClean(body, request.toString());
        if (status >= 400 && !body.isEmpty()) {
            JsonNode problem = json.readTree(body);
            assertThat(problem.path("status").asInt()).as(request + " -> " + body).isEqualTo(status);
            if (status == 400 || status == 413) {
                assertThat(String.valueOf(response.header("Content-Type"))).as(request + " -> " + body)
                        .startsWith("application/problem+json");
                assertThat(problem.path("field").isString()).as("a 400 names the field: " + request + " -> " + body)
                        .isTrue();
            }
        }
    }

    @Provide
    Arbitrary<ToolCall> toolCalls() {
        List<Arbitrary<ToolCall>> perTool = new ArrayList<>();
        toolSchemas.forEach((tool, schema) -> perTool.add(SchemaArbitraries.arguments(schema)
                .map(arguments -> new ToolCall(tool, JsonText.of(arguments)))));
        Arbitrary<ToolCall> unknownTool = Arbitraries.strings().ofMaxLength(30)
                .map(name -> new ToolCall(name, "{}"));
        return Arbitraries.frequencyOf(Tuple.of(20, Arbitraries.oneOf(perTool)), Tuple.of(1, unknownTool));
    }

    @Provide
    Arbitrary<String> messages() {
        Arbitrary<String> wellFormed = message().map(JsonText::of);
        return Arbitraries.frequencyOf(
                Tuple.of(6, wellFormed),
                Tuple.of(3, Combinators.combine(wellFormed, Arbitraries.integers().between(0, 5),
                        Arbitraries.integers().between(0, 10_000), Arbitraries.chars()).as(EdgeFuzzTest::broken)),
                Tuple.of(1, Arbitraries.strings().ofMaxLength(200)),
                Tuple.of(1, Arbitraries.of("", "null", "[]", "{}", "\uFEFF{}", "{\"jsonrpc\":\"2.0\"}", "true", "1e400",
                        "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"},{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}]",
                        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"method\":\"tools/list\"}",
                        "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}", "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":1}}",
                        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"} trailing",
                        "[".repeat(3000) + "]".repeat(3000))),
                Tuple.of(1, Arbitraries.integers().between(200, 400).map(kib -> "{\"jsonrpc\":\"2.0\",\"id\":1,"
                        + "\"method\":\"ping\",\"params\":{\"pad\":\"" + "x".repeat(kib * 1024) + "\"}}")));
    }

    private static Arbitrary<Map<String, Object>> message() {
        Arbitrary<Object> jsonrpc = Arbitraries.frequencyOf(Tuple.of(10, Arbitraries.just("2.0")),
                Tuple.of(1, Arbitraries.of("1.0", 2.0, JsonText.NULL, "")));
        Arbitrary<Object> id = Arbitraries.frequencyOf(
                Tuple.of(4, Arbitraries.longs().between(-5, 1_000_000).map(number -> (Object) number)),
                Tuple.of(3, Arbitraries.strings().ofMaxLength(40).map(text -> (Object) text)),
                Tuple.of(2, Arbitraries.just(ABSENT)),
                Tuple.of(1, SchemaArbitraries.junk()));
        List<String> methods = new ArrayList<>(List.of("ping", "tools/list", "tools/call", "resources/list", "resources/read",
                "resources/templates/list", "resources/subscribe", "resources/unsubscribe", "logging/setLevel",
                "prompts/list", "prompts/get", "completion/complete", "sampling/createMessage", "roots/list",
                "notifications/initialized", "notifications/cancelled", "notifications/progress",
                "notifications/roots/list_changed", "initialize"));
        Arbitrary<Object> method = Arbitraries.frequencyOf(
                Tuple.of(8, Arbitraries.of(methods).map(name -> (Object) name)),
                Tuple.of(2, Arbitraries.strings().ofMaxLength(40).map(name -> (Object) name)),
                Tuple.of(1, SchemaArbitraries.junk()));
        Arbitrary<Object> params = Arbitraries.frequencyOf(
                Tuple.of(4, paramsOfEveryKind()),
                Tuple.of(2, SchemaArbitraries.junk()),
                Tuple.of(2, Arbitraries.just(ABSENT)));
        return Combinators.combine(jsonrpc, id, method, params).as((version, requestId, name, body) -> {
            Map<String, Object> message = new LinkedHashMap<>();
            putUnlessAbsent(message, "jsonrpc", version);
            putUnlessAbsent(message, "id", requestId);
            message.put("method", name);
            putUnlessAbsent(message, "params", body);
            return message;
        });
    }

    /** Params that look like those of the methods above, some of them right. */
    private static Arbitrary<Object> paramsOfEveryKind() {
        Arbitrary<Object> junk = SchemaArbitraries.junk();
        Arbitrary<Object> uri = Arbitraries.frequencyOf(
                Tuple.of(2, Arbitraries.strings().alpha().ofMaxLength(20).map(id -> (Object) ("gpubroker://jobs/" + id))),
                Tuple.of(1, junk));
        return Arbitraries.oneOf(
                Combinators.combine(Arbitraries.of(toolSchemas.keySet()).map(name -> (Object) name), junk)
                        .as((name, arguments) -> (Object) mapOf("name", name, "arguments", arguments)),
                uri.map(value -> (Object) mapOf("uri", value)),
                Arbitraries.of("debug", "info", "loud", "").map(level -> (Object) mapOf("level", level)),
                junk.map(cursor -> (Object) mapOf("cursor", cursor)),
                Combinators.combine(junk, junk).as((version, info) -> (Object) mapOf("protocolVersion", version,
                        "capabilities", Map.of(), "clientInfo", info)),
                Arbitraries.just((Object) mapOf("protocolVersion", "2025-11-25", "capabilities", Map.of(),
                        "clientInfo", mapOf("name", "fuzz", "version", "1"))),
                junk.map(token -> (Object) mapOf("_meta", mapOf("progressToken", token))));
    }

    @Provide
    Arbitrary<AdminRequest> adminRequests() {
        Arbitrary<AdminRoute> route = Arbitraries.of(adminRoutes);
        Arbitrary<String> otherMethod = Arbitraries.of("GET", "POST", "PUT", "DELETE", "PATCH");
        Arbitrary<String> credential = Arbitraries.frequencyOf(Tuple.of(15, Arbitraries.just(adminToken)),
                Tuple.of(3, Arbitraries.just("")), Tuple.of(2, Arbitraries.just("gpa_wrong")));
        Arbitrary<String> contentType = Arbitraries.frequencyOf(Tuple.of(9, Arbitraries.just("application/json")),
                Tuple.of(1, Arbitraries.of("text/plain", "application/xml", "")));
        return Combinators.combine(route, Arbitraries.integers().between(0, 9), otherMethod, pathValue(), query(),
                body(), contentType, credential).as((chosen, dice, other, pathValue, query, body, type, token) -> {
                    String method = dice == 0 ? other : chosen.method();
                    String path = chosen.template().replaceAll("\\{[A-Za-z]+}", pathValue);
                    String queryString = query.entrySet().stream()
                            .filter(entry -> chosen.queryParameters().contains(entry.getKey()) || entry.getKey().equals("x"))
                            .map(entry -> entry.getKey() + "=" + entry.getValue())
                            .reduce((a, b) -> a + "&" + b).map(text -> "?" + text).orElse("");
                    String sent = method.equals("GET") || method.equals("DELETE") ? null
                            : chosen.template().equals("/admin/v1/agents") ? agentBody(body) : body;
                    return new AdminRequest(method, path + queryString, sent, type.isEmpty() ? null : type,
                            token.isEmpty() ? null : token);
                });
    }

    private static Arbitrary<String> pathValue() {
        return Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.just("VICTIM")),
                Tuple.of(3, Arbitraries.strings().alpha().numeric().withChars("_-").ofMinLength(1).ofMaxLength(64)),
                Tuple.of(1, Arbitraries.strings().ofMinLength(1).ofMaxLength(40)
                        .map(text -> URLEncoder.encode(text, StandardCharsets.UTF_8).replace("+", "%20"))),
                Tuple.of(1, Arbitraries.of("..", ".", "%2e%2e", "a;b", "%2F", "x%00", "%", "%zz", " ")))
                .map(value -> value.equals("VICTIM") ? victimAgentId : value);
    }

    private static Arbitrary<Map<String, String>> query() {
        Arbitrary<String> value = Arbitraries.frequencyOf(
                Tuple.of(4, Arbitraries.integers().between(-5, 600).map(String::valueOf)),
                Tuple.of(1, Arbitraries.of("99999999999999999999", "abc", "", "1e3", "-2147483649", "pending", "running",
                        "held", "%zz", "%00")),
                Tuple.of(1, Arbitraries.strings().ofMaxLength(30).map(text -> URLEncoder.encode(text, StandardCharsets.UTF_8))));
        return Arbitraries.maps(Arbitraries.of("limit", "offset", "status", "agentId", "actor", "before", "x"), value)
                .ofMaxSize(4);
    }

    private static Arbitrary<String> body() {
        Arbitrary<Object> junk = SchemaArbitraries.junk();
        Arbitrary<Object> policyValue = Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.of("1.00", "250", "0.000001",
                "-5", "1e3", "99999999999999.0").map(text -> (Object) text)), Tuple.of(2, junk),
                Tuple.of(1, Arbitraries.just(JsonText.NULL)));
        Arbitrary<Object> names = Arbitraries.frequencyOf(
                Tuple.of(2, Arbitraries.strings().withCharRange('a', 'z').ofMinLength(1).ofMaxLength(70).list().ofMaxSize(40)
                        .map(list -> (Object) list)),
                Tuple.of(1, Arbitraries.of("H100", "B200", "TPU").list().ofMaxSize(20).map(list -> (Object) list)),
                Tuple.of(1, junk));
        Arbitrary<Object> policy = Combinators.combine(List.of(policyValue, policyValue, policyValue, policyValue, names,
                names, policyValue, junk)).as(values -> {
                    Map<String, Object> map = new LinkedHashMap<>();
                    String[] fields = {"maxPerReservation", "dailyLimit", "totalLimit", "maxPricePerGpuHour",
                            "allowedProviders", "allowedGpus", "approvalThreshold", "frozen"};
                    for (int i = 0; i < fields.length; i++) {
                        map.put(fields[i], values.get(i));
                    }
                    return (Object) map;
                });
        return Arbitraries.frequencyOf(
                Tuple.of(3, policy.map(JsonText::of)),
                Tuple.of(2, Arbitraries.of(true, false).map(on -> "{\"on\": " + on + "}")),
                Tuple.of(2, junk.map(value -> JsonText.of(mapOf("on", value, "reason", value, "name", value)))),
                Tuple.of(2, junk.map(JsonText::of)),
                Tuple.of(1, Arbitraries.of("", "{", "not json", "[1,2", "{\"name\": \"x\",}", "null")),
                Tuple.of(1, Arbitraries.integers().between(60, 90).map(kib -> "{\"reason\": \"" + "r".repeat(kib * 1024)
                        + "\"}")));
    }

    /** An agent body always names an external wallet: a custodial one costs a keystore per agent. */
    private static String agentBody(String body) {
        if (body != null && body.startsWith("{") && !body.contains("walletAddress")) {
            JsonNode node;
            try {
                node = json.readTree(body);
            } catch (RuntimeException notJson) {
                return body;
            }
            if (node.isObject()) {
                Map<String, Object> map = new LinkedHashMap<>();
                map.put("name", node.has("name") ? new JsonText.Raw(node.get("name").toString()) : "fuzzed");
                map.put("walletAddress", EXTERNAL_WALLET);
                return JsonText.of(map);
            }
        }
        return body;
    }

    private static void assertAnswered(RawMcp.Answer answer) {
        assertThat(answer.timedOut()).as("answered within " + BOUND).isFalse();
        assertThat(answer.status()).as(answer.body()).isBetween(200, 499);
        assertClean(answer.body(), "");
        assertThat(answer.message()).as("one JSON-RPC message in: " + abbreviated(answer.body())).isNotNull();
        assertThat(answer.message().path("jsonrpc").asString()).as(answer.body()).isEqualTo("2.0");
    }

    private static void assertJsonRpcError(JsonNode error, RawMcp.Answer answer) {
        assertThat(error.path("code").isInt()).as(answer.body()).isTrue();
        assertThat(error.path("message").isString()).as(answer.body()).isTrue();
        if (error.path("code").intValue() == -32602) {
            assertThat(error.path("data").path("field").isString()).as("invalid params name the field: " + answer.body())
                    .isTrue();
        }
        assertThat(error.path("code").intValue()).as(answer.body()).isNotEqualTo(-32603);
    }

    private static void assertClean(String body, String request) {
        assertThat(body).as(request).doesNotContain("Exception").doesNotContain("\tat ").doesNotContain("stackTrace")
                .doesNotContainPattern(JAVA_NAME);
    }

    private static <T> T timed(java.util.function.Supplier<T> send) {
        long start = System.nanoTime();
        T answer = send.get();
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        requests.incrementAndGet();
        slowestMillis.accumulateAndGet(millis, Math::max);
        assertThat(Duration.ofMillis(millis)).as("answered within " + BOUND).isLessThanOrEqualTo(BOUND);
        return answer;
    }

    private static List<AdminRoute> routesFromOpenApi() throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(base.resolve("/admin/v1/openapi.json")).build(),
                HttpResponse.BodyHandlers.ofString());
        JsonNode paths = json.readTree(response.body()).path("paths");
        List<AdminRoute> routes = new ArrayList<>();
        for (String template : paths.propertyNames()) {
            for (String method : paths.path(template).propertyNames()) {
                List<String> query = new ArrayList<>();
                paths.path(template).path(method).path("parameters").forEach(parameter -> {
                    if ("query".equals(parameter.path("in").asString())) {
                        query.add(parameter.path("name").asString());
                    }
                });
                routes.add(new AdminRoute(method.toUpperCase(Locale.ROOT), template, query));
            }
        }
        assertThat(routes).hasSizeGreaterThan(20);
        return routes;
    }

    private static final Object ABSENT = new Object();

    private static boolean isUri(String target) {
        try {
            new URI(target);
            return true;
        } catch (java.net.URISyntaxException e) {
            return false;
        }
    }

    private static void putUnlessAbsent(Map<String, Object> map, String key, Object value) {
        if (value != ABSENT) {
            map.put(key, value);
        }
    }

    private static Map<String, Object> mapOf(Object... keysAndValues) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            map.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return map;
    }

    /** A well-formed message made ill-formed in one of a few ways. */
    private static String broken(String message, int how, int where, char what) {
        int at = message.isEmpty() ? 0 : where % message.length();
        return switch (how) {
            case 0 -> message.substring(0, at);
            case 1 -> message.substring(0, at) + what + message.substring(at);
            case 2 -> message.isEmpty() ? "x" : message.substring(0, at) + what + message.substring(Math.min(message.length(), at + 1));
            case 3 -> "[" + message + "," + message + "]";
            case 4 -> message.replaceFirst("\\{", "{\"jsonrpc\":\"2.0\",");
            default -> message + message;
        };
    }

    static String abbreviated(String text) {
        return text == null || text.length() <= 300 ? text : text.substring(0, 300) + "…(" + text.length() + " chars)";
    }
}
