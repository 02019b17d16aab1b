package dev.gpubroker.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.test.context.TestPropertySource;

import io.modelcontextprotocol.client.McpSyncClient;

import dev.gpubroker.identity.NewAgent;
import dev.gpubroker.money.Usdc;
import dev.gpubroker.payments.Reconciliation;
import dev.gpubroker.payments.chain.PaymentChain;
import dev.gpubroker.support.AdminClient;
import dev.gpubroker.support.BrokerIntegrationTest;
import dev.gpubroker.support.RawMcp;

/** What an operator does through the admin API, end to end over HTTP, with the agent on the other side over MCP. */
@TestPropertySource(properties = "gpubroker.market.demo-catalog=classpath:catalogs/payments.yml")
class AdminOperationsTest extends BrokerIntegrationTest {

    @Value("${gpubroker.data-dir}")
    String dataDir;

    @Autowired
    PaymentChain paymentChain;

    @Autowired
    Reconciliation reconciliation;

    @Test
    void aPurchaseAboveTheThresholdWaitsForAPersonAndThenProceedsWithTheSameReservation() throws Exception {
        NewAgent agent = newAgent("big-spender");
        paymentChain.mintTestUsdc(agent.agent().walletAddress(), Usdc.parse("50.00"));
        policy(agent, "\"1.00\"");
        McpSyncClient client = client(agent.apiKey());
        String quoteId = quote(client, 60);

        Map<String, Object> waiting = output(call(client, "reserve", Map.of("quoteId", quoteId, "idempotencyKey", "big-key-1")));
        assertThat(waiting).containsEntry("status", "approval_required").containsEntry("approvalStatus", "pending");
        String approvalId = (String) waiting.get("approvalId");
        assertThat(error(call(client, "pay", Map.of("reservationId", waiting.get("reservationId"), "idempotencyKey", "big-pay-0"))))
                .containsEntry("code", "not_payable");
        assertThat(admin().get("/admin/v1/approvals?status=pending").body()).contains(approvalId).contains("2.40");

        var approved = admin().post("/admin/v1/approvals/" + approvalId + "/approve", null);
        assertThat(approved.statusCode()).isEqualTo(200);
        assertThat(approved.body()).contains("\"status\":\"approved\"");
        assertThat(admin().post("/admin/v1/approvals/" + approvalId + "/deny", "{}").statusCode())
                .as("a decision is final").isEqualTo(409);

        Map<String, Object> again = output(call(client, "reserve", Map.of("quoteId", quoteId, "idempotencyKey", "big-key-1")));
        assertThat(again).containsEntry("reservationId", waiting.get("reservationId")).containsEntry("status", "held")
                .containsEntry("approvalStatus", "approved");
        assertThat(output(call(client, "pay", Map.of("reservationId", waiting.get("reservationId"), "idempotencyKey", "big-pay-1"))))
                .containsEntry("status", "confirmed");
    }

    @Test
    void aDeniedPurchaseIsCancelledAndItsBudgetFreed() throws Exception {
        NewAgent agent = newAgent("denied");
        policy(agent, "\"1.00\"");
        McpSyncClient client = client(agent.apiKey());
        Map<String, Object> waiting = output(call(client, "reserve", Map.of("quoteId", quote(client, 60), "idempotencyKey", "deny-key-1")));
        assertThat(budget(client)).containsEntry("held", "2.40");

        var denied = admin().post("/admin/v1/approvals/" + waiting.get("approvalId") + "/deny", "{\"reason\": \"not this week\"}");

        assertThat(denied.statusCode()).isEqualTo(200);
        assertThat(denied.body()).contains("\"status\":\"denied\"").contains("not this week");
        assertThat(output(call(client, "reserve", Map.of("quoteId", waiting.get("quoteId"), "idempotencyKey", "deny-key-1"))))
                .containsEntry("status", "cancelled");
        assertThat(budget(client)).containsEntry("held", "0.00");
    }

    @Test
    void cancellingAPaidReservationRefundsTheWholeDepositAndTheLedgerFollows() throws Exception {
        NewAgent agent = newAgent("refunded");
        String wallet = agent.agent().walletAddress();
        paymentChain.mintTestUsdc(wallet, Usdc.parse("10.00"));
        McpSyncClient client = client(agent.apiKey());
        Map<String, Object> reservation = output(call(client, "reserve", Map.of("quoteId", quote(client, 60), "idempotencyKey", "refund-key-1")));
        String reservationId = (String) reservation.get("reservationId");
        assertThat(output(call(client, "pay", Map.of("reservationId", reservationId, "idempotencyKey", "refund-pay-1"))))
                .containsEntry("status", "confirmed");
        assertThat(balance(wallet)).isEqualTo(BigInteger.valueOf(7_600_000));
        String usagePath = "/admin/v1/agents/" + agent.agent().agentId() + "/usage";
        assertThat(admin().get(usagePath).body()).as("the console's bars").contains("\"held\":\"2.40\"")
                .contains("\"committedTotal\":\"2.40\"").contains("\"spentTotal\":\"0.00\"");
        assertThat(admin().get("/admin/v1/agents/agt_nobody/usage").statusCode()).isEqualTo(404);

        var cancel = admin().post("/admin/v1/reservations/" + reservationId + "/cancel", null);
        assertThat(cancel.statusCode()).as(cancel.body()).isEqualTo(202);
        assertThat(cancel.body()).contains("\"refund\":\"submitted\"");
        assertThat(admin().post("/admin/v1/reservations/" + reservationId + "/cancel", null).statusCode())
                .as("never refunded twice").isEqualTo(409);

        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!admin().get("/admin/v1/reservations/" + reservationId).body().contains("\"status\":\"refunded\"")) {
            assertThat(System.nanoTime()).isLessThan(deadline);
            Thread.sleep(100);
        }
        assertThat(balance(wallet)).isEqualTo(BigInteger.valueOf(10_000_000));
        assertThat(output(call(client, "account", Map.of()))).containsEntry("escrowed", "0.00");
        assertThat(budget(client)).containsEntry("held", "0.00");
        String ledger = admin().get("/admin/v1/agents/" + agent.agent().agentId() + "/ledger").body();
        assertThat(ledger).contains("deposit into escrow").contains("refund from escrow").contains("\"createdAt\":\"20");
        assertThat(admin().get(usagePath).body()).contains("\"held\":\"0.00\"").contains("\"committedTotal\":\"0.00\"");
        assertThat(reconciliation.run().block(Duration.ofSeconds(20)).mismatches()).isEmpty();
    }

    @Test
    void theProvidersPageSaysWhatIsOfferedAndHowToEnableTheRestWithoutAKey() throws Exception {
        var response = admin().get("/admin/v1/providers");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).contains("{\"name\":\"demo-steady\",\"enabled\":true");
    }

    @Test
    void everyAdminEndpointRefusesAMissingOrWrongToken() throws Exception {
        NewAgent agent = newAgent("bystander");
        String id = agent.agent().agentId();
        List<String[]> endpoints = List.of(
                new String[] {"GET", "/admin/v1/agents"}, new String[] {"POST", "/admin/v1/agents"},
                new String[] {"GET", "/admin/v1/agents/" + id}, new String[] {"POST", "/admin/v1/agents/" + id + "/rotate-key"},
                new String[] {"POST", "/admin/v1/agents/" + id + "/freeze"}, new String[] {"POST", "/admin/v1/agents/" + id + "/unfreeze"},
                new String[] {"GET", "/admin/v1/agents/" + id + "/policy"}, new String[] {"PUT", "/admin/v1/agents/" + id + "/policy"},
                new String[] {"GET", "/admin/v1/agents/" + id + "/ledger"}, new String[] {"GET", "/admin/v1/approvals"},
                new String[] {"POST", "/admin/v1/approvals/apr_x/approve"}, new String[] {"POST", "/admin/v1/approvals/apr_x/deny"},
                new String[] {"GET", "/admin/v1/audit"}, new String[] {"GET", "/admin/v1/reservations"},
                new String[] {"GET", "/admin/v1/reservations/res_x"}, new String[] {"POST", "/admin/v1/reservations/res_x/cancel"},
                new String[] {"GET", "/admin/v1/kill-switch"}, new String[] {"PUT", "/admin/v1/kill-switch"},
                new String[] {"GET", "/admin/v1/reconciliation"}, new String[] {"GET", "/admin/v1/jobs"},
                new String[] {"GET", "/admin/v1/jobs/job_x"}, new String[] {"POST", "/admin/v1/jobs/job_x/cancel"},
                new String[] {"GET", "/admin/v1/jobs/job_x/logs"}, new String[] {"GET", "/admin/v1/agents/" + id + "/usage"},
                new String[] {"GET", "/admin/v1/providers"}, new String[] {"GET", "/admin/v1/providers/runpod/billing"});
        for (String[] endpoint : endpoints) {
            for (String token : new String[] {null, "gpa_wrong", agent.apiKey()}) {
                var response = admin().send(endpoint[0], endpoint[1], "{}", token);
                assertThat(response.statusCode()).as(endpoint[0] + " " + endpoint[1] + " with " + (token == null ? "no token"
                        : "a wrong token")).isEqualTo(401);
            }
        }
        assertThat(admin().get("/admin/v1/agents/" + id).body()).contains("\"frozen\":false");
    }

    @Test
    void theAuditLogRecordsToolCallsAndAdminActionsWithSecretsRedacted() throws Exception {
        NewAgent agent = newAgent("audited");
        McpSyncClient client = client(agent.apiKey());
        String signature = "0x" + "ab".repeat(65);
        call(client, "pay", Map.of("reservationId", "res_unknown", "idempotencyKey", "audit-pay-1", "signature", signature,
                "authorization", Map.of("from", "0x" + "11".repeat(20), "to", "0x" + "22".repeat(20), "value", "1",
                        "validAfter", "0", "validBefore", "9999999999", "nonce", "0x" + "33".repeat(32))));
        admin().post("/admin/v1/agents/" + agent.agent().agentId() + "/freeze", null);
        admin().send("POST", "/admin/v1/agents/" + agent.agent().agentId() + "/unfreeze", null, "gpa_wrong");
        // A read's line goes with the next group commit: moments later, not before the answer.
        call(client, "account", Map.of());
        await().atMost(Duration.ofSeconds(5)).until(() -> admin().get("/admin/v1/audit?limit=20").body()
                .contains("tool:account"));

        String audit = admin().get("/admin/v1/audit?limit=20").body();

        assertThat(audit).contains("tool:pay").contains(agent.agent().agentId()).contains("reservation_not_found")
                .contains("audit-pay-1").contains("<redacted>").doesNotContain("abababab");
        assertThat(audit).contains("POST /admin/v1/agents/{agentId}/freeze")
                .contains("/admin/v1/agents/" + agent.agent().agentId() + "/freeze")
                .contains("POST /admin/v1/agents/{agentId}/unfreeze")
                .contains("/admin/v1/agents/" + agent.agent().agentId() + "/unfreeze").contains("\"outcome\":\"401\"");
        assertThat(audit).doesNotContain(agent.apiKey());
    }

    @Test
    void anAgentPollingFromManySessionsHasEveryReadCountedOnceInTheAuditLog() throws Exception {
        NewAgent agent = newAgent("polling-audited");
        List<McpSyncClient> sessions = List.of(client(agent.apiKey()), client(agent.apiKey()), client(agent.apiKey()),
                client(agent.apiKey()));
        List<Thread> pollers = sessions.stream().map(session -> Thread.ofPlatform().start(() -> {
            for (int i = 0; i < 30; i++) {
                output(call(session, "account", Map.of()));
            }
        })).toList();
        for (Thread poller : pollers) {
            poller.join();
        }
        String reads = "actor_id = :agent AND action = 'tool:account'";
        Map<String, Object> agentId = Map.of("agent", agent.agent().agentId());

        await().atMost(Duration.ofSeconds(5)).until(() -> callsIn(reads, agentId) == 120);
        assertThat(count("audit_log", reads, agentId)).as("identical reads of one commit share a line")
                .isBetween(1L, 120L);
        assertThat(admin().get("/admin/v1/audit?actor=" + agent.agent().agentId() + "&limit=200").body())
                .contains("\"calls\":");
    }

    private long callsIn(String where, Map<String, Object> bindings) {
        var spec = db.sql("SELECT COALESCE(SUM(calls), 0) AS n FROM audit_log WHERE " + where);
        for (var binding : bindings.entrySet()) {
            spec = spec.bind(binding.getKey(), binding.getValue());
        }
        return spec.map(row -> row.get("n", Number.class).longValue()).one().block(Duration.ofSeconds(10));
    }

    @Test
    void rotatingAKeyRetiresTheOldOneAtOnce() throws Exception {
        NewAgent agent = newAgent("rotated");
        // In use just before: the server has just recognised it, and must not go on doing so.
        McpSyncClient before = client(agent.apiKey());
        assertThat(output(call(before, "account", Map.of()))).containsEntry("agentId", agent.agent().agentId());
        var rotated = admin().post("/admin/v1/agents/" + agent.agent().agentId() + "/rotate-key", null);
        assertThat(rotated.statusCode()).isEqualTo(200);
        String newKey = json.readTree(rotated.body()).path("apiKey").asString();

        assertThat(newKey).startsWith("gpb_").isNotEqualTo(agent.apiKey());
        assertThat(agents.authenticate(agent.apiKey()).blockOptional(Duration.ofSeconds(5))).isEmpty();
        assertThat(rawCall(agent.apiKey())).as("the old key over HTTP").isEqualTo(401);
        assertThat(output(call(client(newKey), "account", Map.of()))).containsEntry("agentId", agent.agent().agentId());
    }

    @Test
    void theOpenApiDocumentDescribesTheAdminApi() throws Exception {
        var response = admin().send("GET", "/admin/v1/openapi.json", null, null);

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).contains("\"openapi\"").contains("/admin/v1/agents/{agentId}/policy")
                .contains("/admin/v1/approvals/{approvalId}/approve").contains("/admin/v1/kill-switch")
                .contains("/admin/v1/reservations/{reservationId}/cancel").doesNotContain("\"/mcp\"");
    }

    @Test
    void anInvalidPolicyIsAProblemThatNamesTheFieldAndChangesNothing() throws Exception {
        NewAgent agent = newAgent("validated");
        String path = "/admin/v1/agents/" + agent.agent().agentId() + "/policy";
        String before = admin().get(path).body();

        var negative = admin().put(path, policyBody("\"-5.00\"", "null"));
        var missing = admin().put(path, "{\"dailyLimit\": \"5.00\"}");
        var unknownGpu = admin().put(path, policyBody("\"5.00\"", "[\"TPU\"]"));
        var unknownAgent = admin().put("/admin/v1/agents/agt_nobody/policy", policyBody("\"5.00\"", "null"));

        assertThat(negative.statusCode()).isEqualTo(400);
        assertThat(negative.body()).contains("\"field\":\"dailyLimit\"");
        assertThat(missing.statusCode()).isEqualTo(400);
        assertThat(missing.body()).contains("missing");
        assertThat(unknownGpu.statusCode()).isEqualTo(400);
        assertThat(unknownGpu.body()).contains("\"field\":\"allowedGpus\"");
        assertThat(unknownAgent.statusCode()).isEqualTo(404);
        assertThat(admin().get(path).body()).isEqualTo(before);
    }

    private static String policyBody(String daily, String gpus) {
        return "{\"maxPerReservation\": null, \"dailyLimit\": " + daily + ", \"totalLimit\": null, \"maxPricePerGpuHour\": null,"
                + " \"allowedProviders\": null, \"allowedGpus\": " + gpus + ", \"approvalThreshold\": null, \"frozen\": false}";
    }

    private void policy(NewAgent agent, String approvalThreshold) throws Exception {
        var response = admin().put("/admin/v1/agents/" + agent.agent().agentId() + "/policy",
                "{\"maxPerReservation\": \"100.00\", \"dailyLimit\": \"250.00\", \"totalLimit\": \"1000.00\","
                        + " \"maxPricePerGpuHour\": null, \"allowedProviders\": null, \"allowedGpus\": null,"
                        + " \"approvalThreshold\": " + approvalThreshold + ", \"frozen\": false}");
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    }

    private String quote(McpSyncClient client, int minutes) {
        return (String) quotes(call(client, "quote", Map.of("gpu", "H100", "durationMinutes", minutes))).getFirst().get("quoteId");
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> budget(McpSyncClient client) {
        return (Map<String, Object>) output(call(client, "account", Map.of())).get("budget");
    }

    private BigInteger balance(String address) {
        return paymentChain.context().usdc().balanceOf(address).block(Duration.ofSeconds(10));
    }

    /** The HTTP status of an initialize sent with this key. */
    private int rawCall(String apiKey) {
        try (RawMcp raw = new RawMcp(baseUri(), apiKey, json, Duration.ofSeconds(10))) {
            return raw.post(RawMcp.INITIALIZE).status();
        }
    }

    private AdminClient admin() throws Exception {
        return new AdminClient(baseUri(), Path.of(dataDir));
    }
}
