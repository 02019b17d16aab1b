package dev.gpubroker.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.test.context.TestPropertySource;
import org.springframework.transaction.reactive.TransactionalOperator;

import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;

import dev.gpubroker.identity.NewAgent;
import dev.gpubroker.money.PricePerGpuHour;
import dev.gpubroker.money.Usdc;
import dev.gpubroker.payments.chain.PaymentChain;
import dev.gpubroker.support.AdminClient;
import dev.gpubroker.support.BrokerIntegrationTest;
import reactor.core.publisher.Flux;

/** Limits a person sets, enforced on an agent that cannot be trusted to respect them. */
@TestPropertySource(properties = {
        "gpubroker.market.demo-catalog=classpath:catalogs/payments.yml",
        "gpubroker.reservations.max-open-per-agent=1000"})
class PolicyEnforcementTest extends BrokerIntegrationTest {

    @Value("${gpubroker.data-dir}")
    String dataDir;

    @org.springframework.beans.factory.annotation.Autowired
    PaymentChain paymentChain;

    @org.springframework.beans.factory.annotation.Autowired
    PolicyService policies;

    @org.springframework.beans.factory.annotation.Autowired
    TransactionalOperator transaction;

    @Test
    void twoHundredConcurrentReservesNeverExceedTheDailyLimitAndEveryRefusalNamesIt() throws Exception {
        int reserves = 200;
        Usdc dailyLimit = Usdc.parse("40.00");
        NewAgent agent = newAgent("eager");
        setPolicy(agent, "\"40.00\"", "\"1000.00\"", "\"100.00\"", "null", "null", false);
        List<McpSyncClient> clients = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            clients.add(client(agent.apiKey()));
        }
        Random random = new Random(42);
        List<String> quoteIds = new ArrayList<>();
        for (int i = 0; i < reserves; i++) {
            // 10 to 240 minutes of an L40S at 0.90/h: 0.15 to 3.60 USDC each.
            int minutes = 10 + random.nextInt(231);
            quoteIds.add((String) quotes(call(clients.get(i % clients.size()), "quote",
                    Map.of("gpu", "L40S", "durationMinutes", minutes))).getFirst().get("quoteId"));
        }

        AtomicLong acceptedMicros = new AtomicLong();
        Map<String, Integer> refusals = new ConcurrentHashMap<>();
        List<String> refusalMessages = new CopyOnWriteArrayList<>();
        CountDownLatch start = new CountDownLatch(1);
        try (ExecutorService pool = Executors.newFixedThreadPool(50)) {
            List<Future<?>> calls = new ArrayList<>();
            for (int i = 0; i < reserves; i++) {
                int index = i;
                calls.add(pool.submit(() -> {
                    start.await();
                    CallToolResult result = call(clients.get(index % clients.size()), "reserve",
                            Map.of("quoteId", quoteIds.get(index), "idempotencyKey", "eager-key-" + index));
                    if (Boolean.TRUE.equals(result.isError())) {
                        Map<String, Object> error = error(result);
                        refusals.merge((String) error.get("code"), 1, Integer::sum);
                        refusalMessages.add((String) error.get("message"));
                    } else {
                        acceptedMicros.addAndGet(Usdc.parse((String) output(result).get("amount")).micros());
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> call : calls) {
                call.get();
            }
        }

        System.out.printf("200 concurrent reserves against a daily limit of %s: accepted %s in %d reservations, "
                + "refused %s%n", dailyLimit, Usdc.ofMicros(acceptedMicros.get()), reserves - refusals.values().stream()
                .mapToInt(Integer::intValue).sum(), refusals);
        assertThat(acceptedMicros.get()).isLessThanOrEqualTo(dailyLimit.micros())
                // The limit is really used, not refused wholesale: within one reservation's worth of it.
                .isGreaterThan(dailyLimit.micros() - 3_600_000);
        assertThat(refusals).containsOnlyKeys("over_daily_limit");
        assertThat(refusalMessages).allSatisfy(message -> assertThat(message).contains("daily limit 40.00"));
        long heldInDatabase = db.sql("SELECT COALESCE(SUM(amount_micros), 0) AS s FROM budget_holds WHERE agent_id = :a "
                        + "AND state = 'HELD'").bind("a", agent.agent().agentId())
                .map(row -> row.get("s", Number.class).longValue()).one().block();
        assertThat(heldInDatabase).isEqualTo(acceptedMicros.get());
    }

    @Test
    void twoFirstBudgetHoldsOfANewAgentAtOnceBothHoldAndWriteOnePolicy() {
        // Each hold in its own transaction, as a reserve makes it, kept open a moment so that the two overlap: the
        // second must wait for the first's policy, not fail on it (on PostgreSQL that failure ends the transaction).
        String agentId = newAgent("first-of-its-kind").agent().agentId();
        List<Boolean> allowed = Flux.range(0, 2)
                .flatMap(index -> transaction.transactional(policies.holdBudget(agentId, "res_first_" + index,
                                "demo-steady", "H100", new PricePerGpuHour(2_000_000), Usdc.parse("1.00"))
                        .delayElement(Duration.ofMillis(300))))
                .map(PurchaseCheck::allowed)
                .collectList()
                .block(Duration.ofSeconds(30));

        assertThat(allowed).containsExactly(true, true);
        assertThat(count("agent_policies", "agent_id = :a", Map.of("a", agentId))).isEqualTo(1);
        assertThat(count("budget_holds", "agent_id = :a AND state = 'HELD'", Map.of("a", agentId))).isEqualTo(2);
    }

    @Test
    void aFrozenAgentCanReadButCannotReserveOrPay() throws Exception {
        NewAgent agent = newAgent("suspect");
        paymentChain.mintTestUsdc(agent.agent().walletAddress(), Usdc.parse("20.00"));
        McpSyncClient client = client(agent.apiKey());
        String heldBefore = reserveFirst(client, "H100", 60, "suspect-1");
        String laterQuote = firstQuote(client, "H100", 60);

        assertThat(admin().post("/admin/v1/agents/" + agent.agent().agentId() + "/freeze", null).statusCode()).isEqualTo(200);

        Map<String, Object> quote = quotes(call(client, "quote", Map.of("gpu", "H100", "durationMinutes", 60))).getFirst();
        assertThat(quote.get("policy").toString()).contains("allowed=false").contains("agent_frozen");
        assertThat(output(call(client, "account", Map.of())).get("budget").toString()).contains("frozen=true");
        assertThat(error(call(client, "reserve", Map.of("quoteId", laterQuote, "idempotencyKey", "suspect-2"))))
                .containsEntry("code", "agent_frozen");
        assertThat(error(call(client, "pay", Map.of("reservationId", heldBefore, "idempotencyKey", "suspect-pay-1"))))
                .containsEntry("code", "agent_frozen");

        assertThat(admin().post("/admin/v1/agents/" + agent.agent().agentId() + "/unfreeze", null).statusCode()).isEqualTo(200);
        assertThat(output(call(client, "pay", Map.of("reservationId", heldBefore, "idempotencyKey", "suspect-pay-2"))))
                .containsEntry("status", "confirmed");

        // Frozen again, it cannot run a job on what it already paid for.
        admin().post("/admin/v1/agents/" + agent.agent().agentId() + "/freeze", null);
        assertThat(error(call(client, "run", Map.of("reservationId", heldBefore, "idempotencyKey", "suspect-run-1",
                "command", List.of("true"))))).containsEntry("code", "agent_frozen");
        assertThat(count("jobs", "reservation_id = :r", Map.of("r", heldBefore))).isZero();
    }

    @Test
    void theKillSwitchStopsEveryAgentAtOnce() throws Exception {
        McpSyncClient first = client(newAgent("first").apiKey());
        McpSyncClient second = client(newAgent("second").apiKey());
        String firstQuote = firstQuote(first, "H100", 30);
        String secondQuote = firstQuote(second, "H100", 30);
        try {
            assertThat(admin().put("/admin/v1/kill-switch", "{\"on\": true}").body()).contains("\"on\":true");

            assertThat(error(call(first, "reserve", Map.of("quoteId", firstQuote, "idempotencyKey", "kill-key-1"))))
                    .containsEntry("code", "kill_switch");
            assertThat(error(call(second, "reserve", Map.of("quoteId", secondQuote, "idempotencyKey", "kill-key-2"))))
                    .containsEntry("code", "kill_switch");
        } finally {
            admin().put("/admin/v1/kill-switch", "{\"on\": false}");
        }
        assertThat(output(call(first, "reserve", Map.of("quoteId", firstQuote, "idempotencyKey", "kill-key-3"))))
                .containsEntry("status", "held");
    }

    @Test
    void aPolicyChangeAppliesToTheVeryNextCall() throws Exception {
        NewAgent agent = newAgent("steered");
        McpSyncClient client = client(agent.apiKey());

        setPolicy(agent, "\"250.00\"", "\"1000.00\"", "\"100.00\"", "\"1.00\"", "null", false);
        Map<String, Object> marked = quotes(call(client, "quote", Map.of("gpu", "H100", "durationMinutes", 30))).getFirst();
        assertThat(marked.get("policy").toString()).contains("allowed=false").contains("over_max_price_per_gpu_hour");
        assertThat(error(call(client, "reserve", Map.of("quoteId", marked.get("quoteId"), "idempotencyKey", "steer-key-1"))))
                .containsEntry("code", "over_max_price_per_gpu_hour");

        setPolicy(agent, "\"250.00\"", "\"1000.00\"", "\"100.00\"", "null", "[\"demo-nowhere\"]", false);
        assertThat(error(call(client, "reserve", Map.of("quoteId", firstQuote(client, "H100", 30), "idempotencyKey", "steer-key-2"))))
                .containsEntry("code", "provider_not_allowed");

        setPolicy(agent, "\"250.00\"", "\"1000.00\"", "\"100.00\"", "null", "null", false);
        assertThat(output(call(client, "reserve", Map.of("quoteId", firstQuote(client, "H100", 30), "idempotencyKey", "steer-key-3"))))
                .containsEntry("status", "held");
    }

    @Test
    void anAgentCannotTouchAnotherAgentsWorkNorLearnThatItExists() throws Exception {
        NewAgent owner = newAgent("owner");
        paymentChain.mintTestUsdc(owner.agent().walletAddress(), Usdc.parse("20.00"));
        McpSyncClient ownerClient = client(owner.apiKey());
        String ownedQuote = firstQuote(ownerClient, "H100", 30);
        String ownedReservation = reserveFirst(ownerClient, "H100", 30, "owned-key-1");
        McpSyncClient intruder = client(newAgent("intruder").apiKey());

        Map<String, Object> reserveTheirs = error(call(intruder, "reserve", Map.of("quoteId", ownedQuote, "idempotencyKey", "intruder-1")));
        Map<String, Object> reserveNobodys = error(call(intruder, "reserve", Map.of("quoteId", "qt_none", "idempotencyKey", "intruder-2")));
        Map<String, Object> payTheirs = error(call(intruder, "pay", Map.of("reservationId", ownedReservation, "idempotencyKey", "intruder-3")));
        Map<String, Object> payNobodys = error(call(intruder, "pay", Map.of("reservationId", "res_none", "idempotencyKey", "intruder-4")));

        assertThat(reserveTheirs.get("code")).isEqualTo(reserveNobodys.get("code")).isEqualTo("quote_not_found");
        assertThat(payTheirs.get("code")).isEqualTo(payNobodys.get("code")).isEqualTo("reservation_not_found");
        assertThat(output(call(intruder, "account", Map.of())).toString()).doesNotContain(ownedReservation);
        assertThat(output(call(ownerClient, "pay", Map.of("reservationId", ownedReservation, "idempotencyKey", "owned-pay"))))
                .containsEntry("status", "confirmed");
    }

    private void setPolicy(NewAgent agent, String daily, String total, String maxPer, String maxPrice, String providers,
            boolean frozen) throws Exception {
        String body = "{\"maxPerReservation\": " + maxPer + ", \"dailyLimit\": " + daily + ", \"totalLimit\": " + total
                + ", \"maxPricePerGpuHour\": " + maxPrice + ", \"allowedProviders\": " + providers
                + ", \"allowedGpus\": null, \"approvalThreshold\": null, \"frozen\": " + frozen + "}";
        var response = admin().put("/admin/v1/agents/" + agent.agent().agentId() + "/policy", body);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    }

    private String firstQuote(McpSyncClient client, String gpu, int minutes) {
        return (String) quotes(call(client, "quote", Map.of("gpu", gpu, "durationMinutes", minutes))).getFirst().get("quoteId");
    }

    private String reserveFirst(McpSyncClient client, String gpu, int minutes, String key) {
        return (String) output(call(client, "reserve", Map.of("quoteId", firstQuote(client, gpu, minutes),
                "idempotencyKey", key))).get("reservationId");
    }

    private AdminClient admin() throws Exception {
        return new AdminClient(baseUri(), Path.of(dataDir));
    }
}
