package dev.gpubroker.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.gpubroker.support.AdminClient;
import dev.gpubroker.support.Chromium;
import dev.gpubroker.support.Fleet;
import dev.gpubroker.support.JarClient;
import io.modelcontextprotocol.client.McpSyncClient;

/**
 * The operator's console end to end, in headless Chromium against the packaged jar (src/test/js/console-e2e.mjs,
 * playwright-core with Debian's chromium): the operator logs in with the admin token, creates an agent (its key shown
 * once), sets its policy; the agent, over MCP with that key, reserves above the approval threshold; the operator
 * approves in the page; the agent pays and runs; the page shows the job complete with its output, the settlement's
 * ledger line, the spend chart, a clean reconciliation, and flips the kill switch. Screenshots of each page go to
 * target/console-screenshots (the ones in docs/console.md come from here). It also checks what the browser is told:
 * the console cannot be framed, and the admin API refuses what a browser marks as cross-site.
 */
class ConsoleIT {

    private static final Path SCRIPT = Path.of("src/test/js/console-e2e.mjs");
    private static final Path SCREENSHOTS = Path.of("target/console-screenshots");
    private static final Duration STEP_TIMEOUT = Duration.ofSeconds(150);

    @BeforeAll
    static void chromiumIsInstalled() {
        Chromium.requireInstalled();
    }

    @Test
    void anOperatorApprovesAnAgentsPurchaseInTheConsoleAndSeesItsJobAndLedgerLine() throws Exception {
        try (Fleet fleet = Fleet.startOnEmbeddedDatabase()) {
            AdminClient admin = fleet.admin();
            String base = "http://127.0.0.1:" + fleet.first().port();
            ProcessBuilder script = new ProcessBuilder("node", SCRIPT.toAbsolutePath().toString(), base,
                    SCREENSHOTS.toAbsolutePath().toString())
                    .redirectError(ProcessBuilder.Redirect.to(Files.createDirectories(Path.of("target"))
                            .resolve("console-e2e.log").toFile()));
            // The token goes to the script in its environment, not on its command line (which ps shows).
            script.environment().put("GPUBROKER_E2E_ADMIN_TOKEN", admin.token());
            Process browser = script.start();
            try (Turns turns = new Turns(browser)) {
                String[] agent = turns.expect("AGENT").split(" ");
                String agentId = agent[0];
                String wallet = agent[1];
                String apiKey = agent[2];
                fleet.mint(wallet, BigInteger.valueOf(10_000_000));

                McpSyncClient client = JarClient.connect(fleet.first(), apiKey);
                assertThat(JarClient.structured(client, "account", Map.of())).containsEntry("agentId", agentId);
                String quoteId = Fleet.quote(client);
                Map<String, Object> waiting = JarClient.structured(client, "reserve",
                        Map.of("quoteId", quoteId, "idempotencyKey", "console-reserve"));
                assertThat(waiting).as("0.10 USDC is above the 0.05 the operator set in the page")
                        .containsEntry("status", "approval_required");
                String reservationId = (String) waiting.get("reservationId");
                turns.say("RESERVED " + reservationId);

                turns.expect("APPROVED");
                assertThat(JarClient.structured(client, "reserve", Map.of("quoteId", quoteId, "idempotencyKey",
                        "console-reserve"))).containsEntry("status", "held").containsEntry("approvalStatus", "approved");
                assertThat(JarClient.structured(client, "pay", Map.of("reservationId", reservationId,
                        "idempotencyKey", "console-pay"))).containsEntry("status", "confirmed");
                String jobId = (String) JarClient.structured(client, "run", Map.of("reservationId", reservationId,
                        "idempotencyKey", "console-run", "command",
                        List.of("sh", "-c", "echo hello from the console test"))).get("jobId");
                turns.say("JOB " + jobId);

                String done = turns.expect("DONE");
                assertThat(done).contains("admin calls");
                assertThat(browser.waitFor(30, TimeUnit.SECONDS)).isTrue();
                assertThat(browser.exitValue()).as(turns.log()).isZero();
                client.closeGracefully();

                // What the page did is what the API now says.
                assertThat(admin.get("/admin/v1/approvals?status=approved").body()).contains(reservationId);
                assertThat(admin.get("/admin/v1/agents/" + agentId + "/ledger").body()).contains("seller:");
                assertThat(admin.get("/admin/v1/kill-switch").body()).contains("\"on\":false");
                assertThat(admin.get("/admin/v1/audit?limit=200").body()).contains("kill-switch");
                assertThat(fleet.first().log()).doesNotContain(apiKey).doesNotContain(admin.token());
            } finally {
                browser.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void theConsoleCannotBeFramedAndTheAdminApiRefusesCrossSiteRequests() throws Exception {
        try (Fleet fleet = Fleet.startOnEmbeddedDatabase()) {
            AdminClient admin = fleet.admin();
            URI base = URI.create("http://127.0.0.1:" + fleet.first().port());
            try (HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build()) {
                HttpResponse<String> redirect = http.send(HttpRequest.newBuilder(base.resolve("/console")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(redirect.statusCode()).isEqualTo(308);
                assertThat(redirect.headers().firstValue("Location")).hasValue("/console/");

                HttpResponse<String> page = http.send(HttpRequest.newBuilder(base.resolve("/console/")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(page.statusCode()).isEqualTo(200);
                assertThat(page.body()).contains("<div id=\"app\"></div>").doesNotContain(admin.token());
                assertThat(page.headers().firstValue("X-Frame-Options")).hasValue("DENY");
                assertThat(page.headers().firstValue("Content-Security-Policy")).get().asString()
                        .contains("frame-ancestors 'none'").contains("script-src 'self'").doesNotContain("unsafe");
                assertThat(page.headers().firstValue("Referrer-Policy")).hasValue("no-referrer");

                HttpResponse<String> post = http.send(HttpRequest.newBuilder(base.resolve("/console/"))
                        .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(post.statusCode()).as("the console is read-only").isEqualTo(404);
            }

            String body = "{\"on\": true}";
            HttpResponse<String> fromElsewhere = send(base, "PUT", "/admin/v1/kill-switch", body, admin.token(),
                    Map.of("Origin", "http://evil.example", "Sec-Fetch-Site", "cross-site"));
            assertThat(fromElsewhere.statusCode()).isEqualTo(403);
            assertThat(fromElsewhere.body()).contains("cross-site-request").doesNotContain(admin.token());
            HttpResponse<String> otherOrigin = send(base, "PUT", "/admin/v1/kill-switch", body, admin.token(),
                    Map.of("Origin", "http://127.0.0.1:1"));
            assertThat(otherOrigin.statusCode()).isEqualTo(403);
            assertThat(admin.get("/admin/v1/kill-switch").body()).as("nothing changed").contains("\"on\":false");

            HttpResponse<String> sameOrigin = send(base, "GET", "/admin/v1/kill-switch", null, admin.token(),
                    Map.of("Origin", base.toString(), "Sec-Fetch-Site", "same-origin"));
            assertThat(sameOrigin.statusCode()).as("the console's own calls pass").isEqualTo(200);
        }
    }

    private static HttpResponse<String> send(URI base, String method, String path, String body, String token,
            Map<String, String> headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(20))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        headers.forEach(request::header);
        try (HttpClient http = HttpClient.newHttpClient()) {
            return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        }
    }

    /** The script's turns: one line from it, one line to it; a line that does not come in time fails with its log. */
    private static final class Turns implements AutoCloseable {

        private final Process browser;
        private final BufferedReader from;
        private final PrintWriter to;
        private final Path log = Path.of("target/console-e2e.log");

        Turns(Process browser) {
            this.browser = browser;
            this.from = new BufferedReader(new InputStreamReader(browser.getInputStream(), StandardCharsets.UTF_8));
            this.to = new PrintWriter(browser.getOutputStream(), true, StandardCharsets.UTF_8);
        }

        String expect(String word) throws Exception {
            CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
                try {
                    return from.readLine();
                } catch (IOException e) {
                    return null;
                }
            });
            String read;
            try {
                read = line.get(STEP_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException late) {
                throw new AssertionError("the console script did not say " + word + " within " + STEP_TIMEOUT + ":\n" + log());
            }
            if (read == null || !read.startsWith(word)) {
                browser.waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError("the console script said " + read + " instead of " + word + ":\n" + log());
            }
            return read.substring(word.length()).strip();
        }

        void say(String line) {
            to.println(line);
        }

        String log() throws IOException {
            return Files.isRegularFile(log) ? Files.readString(log, StandardCharsets.UTF_8) : "(no log)";
        }

        @Override
        public void close() {
            to.close();
        }
    }
}
