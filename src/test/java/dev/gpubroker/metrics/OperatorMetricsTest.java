package dev.gpubroker.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.test.context.TestPropertySource;

import io.modelcontextprotocol.client.McpSyncClient;

import dev.gpubroker.identity.NewAgent;
import dev.gpubroker.money.Usdc;
import dev.gpubroker.payments.chain.PaymentChain;
import dev.gpubroker.support.AdminClient;
import dev.gpubroker.support.BrokerIntegrationTest;

/**
 * The operator's scrape at {@code GET /admin/v1/metrics}, on a broker of its own (so the counts are this test's):
 * demo-steady answers after 500 ms, demo-hanging never, demo-broken with an outage; the database's gauges are read
 * every 500 ms.
 */
@TestPropertySource(properties = {
        "gpubroker.market.demo-catalog=classpath:catalogs/with-hanging.yml",
        "gpubroker.metrics.refresh-interval=500ms"})
class OperatorMetricsTest extends BrokerIntegrationTest {

    private static final Duration SCRAPE_WAIT_MAX = Duration.ofSeconds(20);
    /** The same rule as the edge fuzz test's: no answer names a Java package. */
    private static final Pattern JAVA_NAME = Pattern.compile(
            "(java|javax|jdk|sun|tools\\.jackson|com\\.fasterxml|io\\.modelcontextprotocol|org\\.springframework|reactor|"
                    + "io\\.netty|io\\.r2dbc|org\\.h2|org\\.web3j|com\\.networknt|dev\\.gpubroker)\\.[a-z][\\w$]*\\.");

    @Autowired
    PaymentChain paymentChain;

    @Value("${gpubroker.data-dir}")
    String dataDir;

    @Test
    void theScrapeNeedsTheAdminTokenAndTheActuatorsOwnEndpointIsNotServed() throws Exception {
        NewAgent agent = newAgent("curious");

        HttpResponse<String> missing = scrape(null, null);
        HttpResponse<String> wrong = scrape("gpa_wrong-token", null);
        HttpResponse<String> agentKey = scrape(agent.apiKey(), null);
        HttpResponse<String> actuator = admin().get("/actuator/prometheus");
        HttpResponse<String> actuatorMetrics = admin().get("/actuator/metrics");

        for (HttpResponse<String> refused : List.of(missing, wrong, agentKey)) {
            assertThat(refused.statusCode()).isEqualTo(401);
            assertThat(refused.headers().firstValue("Content-Type")).hasValue("application/problem+json");
            assertThat(refused.headers().firstValue("WWW-Authenticate")).isPresent();
            assertThat(refused.body()).doesNotContain("gpubroker_");
        }
        assertThat(actuator.statusCode()).as("even with the admin token").isEqualTo(404);
        assertThat(actuator.body()).doesNotContain("gpubroker_");
        assertThat(actuatorMetrics.statusCode()).isEqualTo(404);
    }

    @Test
    void theScrapeIsPrometheusTextOrOpenMetricsWhenAskedFor() throws Exception {
        HttpResponse<String> text = scrape(admin().token(), null);
        HttpResponse<String> openMetrics = scrape(admin().token(),
                "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1");

        assertThat(text.statusCode()).isEqualTo(200);
        assertThat(text.headers().firstValue("Content-Type")).hasValueSatisfying(type -> assertThat(type)
                .startsWith("text/plain").contains("version=0.0.4"));
        assertThat(text.body()).contains("# TYPE gpubroker_relayer_queue_depth gauge");
        assertThat(openMetrics.statusCode()).isEqualTo(200);
        assertThat(openMetrics.headers().firstValue("Content-Type")).hasValueSatisfying(type -> assertThat(type)
                .startsWith("application/openmetrics-text"));
        assertThat(openMetrics.body()).endsWith("# EOF\n");
    }

    @Test
    void aQuoteAReservationAPaymentAndARefusedRunShowInTheScrape() throws Exception {
        NewAgent agent = newAgent("metered");
        paymentChain.mintTestUsdc(agent.agent().walletAddress(), Usdc.parse("50.00"));
        McpSyncClient client = client(agent.apiKey());

        output(call(client, "quote", Map.of("gpu", "H100", "durationMinutes", 60)));
        String reservationId = paidReservation(client, "H100", "demo-steady", 60, "metered");
        Map<String, Object> refused = error(call(client, "run", Map.of("reservationId", reservationId,
                "idempotencyKey", "metered-run", "command", List.of("true"), "env", Map.of("LD_PRELOAD", "/work/evil.so"))));
        long paidMicros = db.sql("SELECT amount_micros FROM reservations WHERE reservation_id = :id")
                .bind("id", reservationId).map(row -> row.get("amount_micros", Number.class).longValue())
                .one().block(Duration.ofSeconds(10));

        assertThat(refused).containsEntry("code", "env_not_allowed");
        String body = scrape(admin().token(), null).body();
        assertThat(body).as("the HTTP server's request metrics, and none of Spring Security's own")
                .contains("http_server_requests_seconds_count{").doesNotContain("spring_security");
        await().atMost(SCRAPE_WAIT_MAX).untilAsserted(() -> {
            ScrapedMetrics scraped = ScrapedMetrics.parse(scrape(admin().token(), null).body());
            // Both quotes asked demo-steady (the second from paidReservation); demo-hanging and demo-broken failed once.
            assertThat(value(scraped, "gpubroker_provider_quote_duration_seconds_count", "provider", "demo-steady"))
                    .isEqualTo(2);
            assertThat(value(scraped, "gpubroker_provider_quote_duration_seconds_bucket", "provider", "demo-steady",
                    "le", "0.25")).as("it answers after 500 ms").isZero();
            assertThat(value(scraped, "gpubroker_provider_failures_total", "provider", "demo-hanging",
                    "operation", "quote", "kind", "timeout")).isEqualTo(1);
            assertThat(value(scraped, "gpubroker_provider_failures_total", "provider", "demo-broken",
                    "operation", "quote", "kind", "unavailable")).isEqualTo(1);
            assertThat(scraped.value("gpubroker_provider_failures_total", "provider", "demo-steady")).isEmpty();

            assertThat(value(scraped, "gpubroker_reservations", "state", "paid")).isEqualTo(1);
            assertThat(value(scraped, "gpubroker_reservations", "state", "held")).isZero();
            assertThat(value(scraped, "gpubroker_payments", "state", "confirmed")).isEqualTo(1);
            assertThat(value(scraped, "gpubroker_payments", "state", "failed")).isZero();
            assertThat(value(scraped, "gpubroker_jobs", "state", "running")).as("the run was refused").isZero();
            assertThat(value(scraped, "gpubroker_escrowed_usdc_micros")).isEqualTo(paidMicros).isEqualTo(2_400_000);

            assertThat(value(scraped, "gpubroker_relayer_confirmation_duration_seconds_count", "purpose", "deposit",
                    "outcome", "confirmed")).isPositive();
            assertThat(value(scraped, "gpubroker_relayer_queue_depth")).isZero();
            assertThat(value(scraped, "gpubroker_run_refusals_total", "code", "env_not_allowed")).isEqualTo(1);
            assertThat(value(scraped, "gpubroker_tool_calls_seconds_count", "tool", "run", "outcome",
                    "env_not_allowed")).as("each tool call by its outcome").isEqualTo(1);
            assertThat(value(scraped, "gpubroker_tool_calls_seconds_count", "tool", "quote", "outcome", "ok"))
                    .isEqualTo(2);
            assertThat(value(scraped, "gpubroker_tool_calls_seconds_count", "tool", "pay", "outcome", "ok"))
                    .isEqualTo(1);
            assertThat(scraped.value("http_server_requests_seconds_count", "uri", "/mcp"))
                    .as("every tool call is a POST to /mcp: counted by tool above, not by the HTTP server").isEmpty();
            assertThat(value(scraped, "gpubroker_reconciliation_mismatches")).as("reconciled at start").isZero();
            assertThat(value(scraped, "gpubroker_reconciliation_last_run_timestamp_seconds")).isPositive();
            assertThat(value(scraped, "gpubroker_health_up", "component", "chain")).isEqualTo(1);
            assertThat(value(scraped, "gpubroker_health_up", "component", "r2dbc")).isEqualTo(1);
        });
    }

    @Test
    void aReconciliationTheOperatorAsksForUpdatesTheGauge() throws Exception {
        double before = value(ScrapedMetrics.parse(scrape(admin().token(), null).body()),
                "gpubroker_reconciliation_last_run_timestamp_seconds");

        HttpResponse<String> report = admin().get("/admin/v1/reconciliation");

        assertThat(report.statusCode()).isEqualTo(200);
        ScrapedMetrics scraped = ScrapedMetrics.parse(scrape(admin().token(), null).body());
        assertThat(value(scraped, "gpubroker_reconciliation_last_run_timestamp_seconds")).isGreaterThan(before);
        assertThat(value(scraped, "gpubroker_reconciliation_mismatches")).isZero();
    }

    @Test
    void theScrapeNamesNoJavaClassEvenAfterRequestsThatFailed() throws Exception {
        assertThat(admin().post("/admin/v1/agents", "name=x").statusCode()).isIn(400, 415);
        assertThat(admin().get("/admin/v1/agents/agt_nobody").statusCode()).isEqualTo(404);
        assertThat(admin().put("/admin/v1/kill-switch", "{\"on\": \"maybe\"}").statusCode()).isEqualTo(400);

        await().atMost(SCRAPE_WAIT_MAX).untilAsserted(() -> {
            String body = scrape(admin().token(), null).body();
            assertThat(ScrapedMetrics.parse(body).value("http_server_requests_seconds_count", "method", "PUT",
                    "uri", "/admin/v1/kill-switch", "status", "400")).as("the failed requests are counted").isPresent();
            assertThat(body).doesNotContain("Exception").doesNotContainPattern(JAVA_NAME);
        });
    }

    private static double value(ScrapedMetrics scraped, String name, String... labels) {
        OptionalDouble value = scraped.value(name, labels);
        assertThat(value).as(name + " " + List.of(labels)).isPresent();
        return value.getAsDouble();
    }

    private HttpResponse<String> scrape(String bearer, String accept) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(baseUri().resolve("/admin/v1/metrics"))
                .timeout(Duration.ofSeconds(10)).GET();
        if (bearer != null) {
            request.header("Authorization", "Bearer " + bearer);
        }
        if (accept != null) {
            request.header("Accept", accept);
        }
        try (HttpClient http = HttpClient.newHttpClient()) {
            return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        }
    }

    private AdminClient admin() throws Exception {
        return new AdminClient(baseUri(), Path.of(dataDir));
    }
}
