package dev.gpubroker.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Import;

import dev.gpubroker.identity.NewAgent;
import dev.gpubroker.support.AdminClient;
import dev.gpubroker.support.BrokerIntegrationTest;
import dev.gpubroker.support.HandlerReach;
import dev.gpubroker.support.PathSpellings;
import dev.gpubroker.support.PathSpellings.Spelling;
import dev.gpubroker.support.RawHttp;
import tools.jackson.databind.JsonNode;

/**
 * The admin API and /mcp are guarded on the route the router serves, not on how the path is written: no spelling of
 * any admin route (taken from the OpenAPI document, so a new route is covered the day it is added) or of /mcp reaches
 * a handler without its credential, path parameters and encoded separators are refused outright, and every admin write
 * that reaches a handler is in the audit log under its route.
 */
@Import(HandlerReach.Configuration.class)
class PathSpellingAuthorizationTest extends BrokerIntegrationTest {

    private static final Set<String> PUBLIC_PATHS = Set.of("/admin/v1/openapi.json");
    private static final String INITIALIZE = """
            {"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},\
            "clientInfo":{"name":"raw","version":"1"}}}""";

    @Value("${gpubroker.data-dir}")
    String dataDir;

    @Autowired
    HandlerReach reach;

    private int probes;

    record Route(String method, String template, String body) {

        String path(String agentId) {
            return template.replace("{agentId}", agentId).replaceAll("\\{[A-Za-z]+}", "x_probe");
        }
    }

    @Test
    void noSpellingOfAnyAdminRouteOrOfMcpReachesAHandlerWithoutItsCredential() throws Exception {
        NewAgent target = newAgent("spelling-target");
        String agentId = target.agent().agentId();
        List<Route> routes = new ArrayList<>(adminRoutes());
        routes.add(new Route("POST", "/mcp", INITIALIZE));
        routes.add(new Route("GET", "/mcp", null));
        routes.add(new Route("DELETE", "/mcp", null));
        String before = state(target);
        List<String> failures = new ArrayList<>();

        for (Route route : routes) {
            String path = route.path(agentId);
            List<Spelling> spellings = new ArrayList<>(PathSpellings.of(path));
            spellings.addFirst(new Spelling(path, "as written"));
            // The admin API's wrong credentials include an agent's key; /mcp's include the admin token.
            List<String> wrongCredentials = route.template().equals("/mcp")
                    ? List.of("gpb_not-a-key", admin().token()) : List.of("gpa_wrong-token", target.apiKey());
            for (int index = 0; index < spellings.size(); index++) {
                Spelling spelling = spellings.get(index);
                List<String> credentials = new ArrayList<>();
                credentials.add(null);
                if (index % 7 == 0) {
                    credentials.addAll(wrongCredentials); // on the path as written, and on a sample of the spellings
                }
                for (String credential : credentials) {
                    String problem = refusedWithoutReachingAHandler(route, spelling, credential);
                    if (problem != null) {
                        failures.add(route.method() + " " + spelling.target() + " (" + spelling.how() + ", "
                                + (credential == null ? "no credential" : "a wrong credential") + "): " + problem);
                    }
                }
            }
        }

        assertThat(routes).as("routes from the OpenAPI document").hasSizeGreaterThan(20);
        assertThat(probes).isGreaterThan(2000);
        assertThat(failures).as(failures.size() + " of " + probes + " requests got through; the first: "
                + failures.subList(0, Math.min(40, failures.size()))).isEmpty();
        assertThat(state(target)).as("nothing changed").isEqualTo(before);
    }

    @Test
    void theSpellingsTheIssueReportedAreRefused() throws Exception {
        NewAgent target = newAgent("issue-target");
        String before = state(target);
        long agentsBefore = count("agents");

        RawHttp.Response list = raw("GET", "/admin/v1;x/agents", null, null);
        RawHttp.Response create = raw("POST", "/admin;x/v1/agents", "{\"name\": \"intruder\"}", null);
        RawHttp.Response rotate = raw("POST", "/%61dmin/v1/agents/" + target.agent().agentId() + "/rotate-key", null, null);
        RawHttp.Response killSwitch = raw("PUT", "/admin/%76%31/kill-switch", "{\"on\": true}", null);
        RawHttp.Response mcp = raw("POST", "/mcp;x", INITIALIZE, null);

        assertThat(list.status()).isEqualTo(400);
        assertThat(create.status()).isEqualTo(400);
        assertThat(rotate.status()).isEqualTo(401);
        assertThat(killSwitch.status()).isEqualTo(401);
        assertThat(mcp.status()).isEqualTo(400);
        assertThat(mcp.header("Mcp-Session-Id")).isNull();
        assertThat(count("agents")).isEqualTo(agentsBefore);
        assertThat(agents.authenticate(target.apiKey()).blockOptional(Duration.ofSeconds(5))).isPresent();
        assertThat(state(target)).isEqualTo(before);
    }

    @Test
    void pathParametersEncodedSeparatorsAndDotSegmentsAreRefusedOutrightEvenWithTheToken() throws Exception {
        NewAgent target = newAgent("outright-target");
        String token = admin().token();
        List<String> failures = new ArrayList<>();

        for (Route route : List.of(new Route("GET", "/admin/v1/agents/{agentId}", null),
                new Route("PUT", "/admin/v1/kill-switch", "{\"on\": false}"))) {
            for (Spelling spelling : PathSpellings.of(route.path(target.agent().agentId()))) {
                if (!spelling.needsRefusalOutright()) {
                    continue;
                }
                RawHttp.Response response = raw(route.method(), spelling.target(), route.body(), token);
                // A raw backslash is not even a valid request target: the HTTP server refuses it (400, no body)
                // before the application sees the request.
                boolean refusedByTheHttpServer = spelling.target().contains("\\") && response.status() == 400
                        && response.body().isEmpty();
                boolean refusedWithAProblem = response.status() == 400
                        && String.valueOf(response.header("Content-Type")).startsWith("application/problem+json")
                        && response.body().contains("\"status\":400");
                if (!refusedByTheHttpServer && !refusedWithAProblem) {
                    failures.add(route.method() + " " + spelling.target() + " (" + spelling.how() + "): "
                            + response.status() + " " + response.header("Content-Type") + " " + abbreviated(response.body()));
                }
            }
        }

        assertThat(failures).as(failures.size() + " not refused outright: " + failures.subList(0,
                Math.min(30, failures.size()))).isEmpty();
    }

    @Test
    void everyAdminWriteThatReachesAHandlerIsAuditedUnderItsRouteWhateverItsSpelling() throws Exception {
        NewAgent target = newAgent("audit-target");
        String id = target.agent().agentId();
        String token = admin().token();

        RawHttp.Response killSwitch = raw("PUT", "/%61dmin/v1/kill-switch", "{\"on\": false}", token);
        RawHttp.Response freeze = raw("POST", "/admin/v1/%61gents/" + id + "/freeze", null, token);
        RawHttp.Response refused = raw("POST", "/adm%69n/v1/agents/" + id + "/unfreeze", null, null);

        assertThat(killSwitch.status()).isEqualTo(200);
        assertThat(freeze.status()).isEqualTo(200);
        assertThat(refused.status()).isEqualTo(401);
        String audit = admin().get("/admin/v1/audit?limit=20").body();
        assertThat(audit).contains("PUT /admin/v1/kill-switch").contains("/%61dmin/v1/kill-switch")
                .contains("POST /admin/v1/agents/{agentId}/freeze").contains("/admin/v1/%61gents/" + id + "/freeze")
                .contains("POST /admin/v1/agents/{agentId}/unfreeze").contains("/adm%69n/v1/agents/" + id + "/unfreeze")
                .contains("\"outcome\":\"401\"");
        assertThat(audit).doesNotContain(token);
    }

    /** Null when the request was refused as it should be; otherwise what went wrong. */
    private String refusedWithoutReachingAHandler(Route route, Spelling spelling, String credential) throws Exception {
        String probe = "probe-" + (++probes);
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put(HandlerReach.PROBE_HEADER, probe);
        headers.put("Content-Type", "application/json");
        headers.put("Accept", route.template().equals("/mcp") && route.method().equals("GET") ? "text/event-stream"
                : "application/json, text/event-stream");
        headers.put("Mcp-Session-Id", "not-a-session");
        if (credential != null) {
            headers.put("Authorization", "Bearer " + credential);
        }
        RawHttp.Response response = new RawHttp(port, Duration.ofSeconds(5)).send(route.method(), spelling.target(), headers,
                route.body());
        if (reach.reached(probe)) {
            return "reached a handler (answered " + response.status() + ")";
        }
        if (response.isSuccess()) {
            return "answered " + response.status();
        }
        if (response.status() >= 500) {
            return "answered " + response.status() + " " + abbreviated(response.body());
        }
        if (response.status() < 0) {
            return response.timedOut() ? "no answer in time" : "connection closed without an answer";
        }
        String lower = response.body().toLowerCase(Locale.ROOT);
        if (lower.contains("exception") || lower.contains("\tat ") || lower.contains("stacktrace")) {
            return "a Java exception in the answer: " + abbreviated(response.body());
        }
        return null;
    }

    private List<Route> adminRoutes() throws Exception {
        var response = admin().send("GET", "/admin/v1/openapi.json", null, null);
        assertThat(response.statusCode()).isEqualTo(200);
        JsonNode paths = json.readTree(response.body()).path("paths");
        List<Route> routes = new ArrayList<>();
        for (String template : paths.propertyNames()) {
            if (PUBLIC_PATHS.contains(template)) {
                continue;
            }
            for (String method : paths.path(template).propertyNames()) {
                String upper = method.toUpperCase(Locale.ROOT);
                if (Set.of("GET", "POST", "PUT", "DELETE", "PATCH").contains(upper)) {
                    routes.add(new Route(upper, template, bodyFor(upper, template)));
                }
            }
        }
        return routes;
    }

    /** A valid body, so that a request that did get through would change something visible. */
    private static String bodyFor(String method, String template) {
        if (method.equals("GET") || method.equals("DELETE")) {
            return null;
        }
        if (template.endsWith("/kill-switch")) {
            return "{\"on\": true}";
        }
        if (template.endsWith("/policy")) {
            return "{\"maxPerReservation\": \"1.00\", \"dailyLimit\": \"1.00\", \"totalLimit\": \"1.00\","
                    + " \"maxPricePerGpuHour\": null, \"allowedProviders\": null, \"allowedGpus\": null,"
                    + " \"approvalThreshold\": null, \"frozen\": true}";
        }
        if (template.equals("/admin/v1/agents")) {
            return "{\"name\": \"intruder\"}";
        }
        if (template.endsWith("/deny")) {
            return "{\"reason\": \"intruder\"}";
        }
        return "{}";
    }

    /** What an intruder would want to change, as the operator sees it. */
    private String state(NewAgent target) throws Exception {
        String id = target.agent().agentId();
        boolean keyWorks = agents.authenticate(target.apiKey()).blockOptional(Duration.ofSeconds(5)).isPresent();
        return "agents=" + count("agents") + " keyWorks=" + keyWorks
                + " killSwitch=" + admin().get("/admin/v1/kill-switch").body()
                + " agent=" + admin().get("/admin/v1/agents/" + id).body()
                + " policy=" + admin().get("/admin/v1/agents/" + id + "/policy").body();
    }

    private RawHttp.Response raw(String method, String target, String body, String token) throws Exception {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Content-Type", "application/json");
        headers.put("Accept", "application/json, text/event-stream");
        if (token != null) {
            headers.put("Authorization", "Bearer " + token);
        }
        return new RawHttp(port, Duration.ofSeconds(10)).send(method, target, headers, body);
    }

    private AdminClient admin() throws Exception {
        return new AdminClient(baseUri(), Path.of(dataDir));
    }

    private static String abbreviated(String text) {
        return text.length() <= 300 ? text : text.substring(0, 300) + "…";
    }
}
