package dev.gpubroker.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.TestPropertySource;

import io.micrometer.core.instrument.MeterRegistry;
import io.modelcontextprotocol.client.McpSyncClient;

import dev.gpubroker.identity.NewAgent;
import dev.gpubroker.money.Usdc;
import dev.gpubroker.payments.chain.PaymentChain;
import dev.gpubroker.scheduler.ReservationState;
import dev.gpubroker.support.BrokerIntegrationTest;

/**
 * quote → reserve → pay → run → settled, with real processes on the demo providers and amounts checked on the real
 * chain. demo-steady's H100 costs 36.00 an hour: 0.01 USDC per GPU-second, so metering shows in the amounts.
 */
@TestPropertySource(properties = "gpubroker.market.demo-catalog=classpath:catalogs/jobs.yml")
class JobLifecycleTest extends BrokerIntegrationTest {

    @Autowired
    PaymentChain paymentChain;

    @Autowired
    MeterRegistry meters;

    @Test
    void aJobRunsIsMeteredAndSettledAndTheRefundIsExactToTheAtomicUnit() throws Exception {
        NewAgent agent = newAgent("runner");
        String wallet = agent.agent().walletAddress();
        String seller = paymentChain.context().payeeAddress();
        String escrow = paymentChain.context().escrowAddress();
        paymentChain.mintTestUsdc(wallet, Usdc.parse("50.00"));
        McpSyncClient client = client(agent.apiKey());
        String reservationId = paidReservation(client, "H100", "demo-steady", 60, "runner-1");
        BigInteger walletBefore = balance(wallet);
        BigInteger sellerBefore = balance(seller);
        BigInteger escrowBefore = balance(escrow);
        BigInteger totalBefore = walletBefore.add(sellerBefore).add(escrowBefore);

        Map<String, Object> started = output(call(client, "run", Map.of("reservationId", reservationId,
                "idempotencyKey", "run-key-1", "env", Map.of("SECRET_TOKEN", "do-not-echo"),
                "command", List.of("sh", "-c", "echo hello from $CUDA_VISIBLE_DEVICES; sleep 2; echo done"))));
        assertThat(started).containsEntry("status", "launching").containsKey("jobId");
        String jobId = (String) started.get("jobId");
        Map<String, Object> replay = output(call(client, "run", Map.of("reservationId", reservationId,
                "idempotencyKey", "run-key-1", "command", List.of("sh", "-c", "echo again"))));
        assertThat(replay).containsEntry("jobId", jobId).containsEntry("replayed", true);

        Map<String, Object> status = awaitSettled(client, jobId);

        assertThat(status).containsEntry("status", "completed").containsEntry("exitCode", 0);
        assertThat(output(call(client, "job_status", Map.of("jobId", jobId))))
                .as("settlement is done: the escrow's settlement is confirmed").containsEntry("escrowClosed", true);
        long gpuSeconds = ((Number) status.get("gpuSeconds")).longValue();
        assertThat(gpuSeconds).isBetween(2L, 6L);
        Usdc cost = Usdc.ofMicros(gpuSeconds * 10_000);
        assertThat(status).containsEntry("cost", cost.toDecimalString())
                .containsEntry("refund", Usdc.parse("36.00").minus(cost).toDecimalString());
        assertThat(status.toString()).doesNotContain("do-not-echo");
        // The audit line of the run keeps the variable's name, never its value.
        assertThat(count("audit_log", "action = 'tool:run' AND CAST(arguments AS VARCHAR(4000)) LIKE '%SECRET_TOKEN%'",
                Map.of())).isEqualTo(1);
        assertThat(count("audit_log", "CAST(arguments AS VARCHAR(4000)) LIKE '%do-not-echo%'", Map.of())).isZero();
        assertThat(balance(wallet)).isEqualTo(walletBefore.add(BigInteger.valueOf(36_000_000 - cost.micros())));
        assertThat(balance(seller)).isEqualTo(sellerBefore.add(BigInteger.valueOf(cost.micros())));
        assertThat(balance(escrow)).isEqualTo(escrowBefore.subtract(BigInteger.valueOf(36_000_000)));
        assertThat(balance(wallet).add(balance(seller)).add(balance(escrow))).isEqualTo(totalBefore);
        Map<String, Object> logs = output(call(client, "job_logs", Map.of("jobId", jobId)));
        assertThat(logs.get("lines").toString()).contains("hello from 0").contains("done");
        assertThat(logs.get("nextCursor")).isNull();
        assertThat(output(call(client, "account", Map.of()))).containsEntry("escrowed", "0.00");
        // The GPUs go back to the provider once the reservation is settled.
        long capacityDeadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (count("demo_holds", "hold_id = :h AND released = FALSE", Map.of("h", reservationId)) > 0) {
            assertThat(System.nanoTime()).as("capacity released after settlement").isLessThan(capacityDeadline);
            Thread.sleep(100);
        }
        // The state machine holds in the database too: an ended job cannot end again, run again or move elsewhere,
        // and a settled reservation cannot be made to run again.
        java.time.Instant now = java.time.Instant.now();
        assertThat(jobRepository.end(jobId, JobState.FAILED, now, 1, 0, Usdc.ZERO, Usdc.parse("36.00"))
                .block(Duration.ofSeconds(5))).isFalse();
        assertThat(jobRepository.markRunning(jobId, 1, now, now).block(Duration.ofSeconds(5))).isFalse();
        assertThat(jobRepository.failOver(jobId, 1, "demo-steady", "demo-backup",
                dev.gpubroker.money.PricePerGpuHour.parse("0.01"), now).block(Duration.ofSeconds(5))).isFalse();
        assertThat(reservations.startRunning(reservationId, "again", now).block(Duration.ofSeconds(5)))
                .isInstanceOf(dev.gpubroker.scheduler.ReservationMove.Unchanged.class);
        assertThat(reservations.findById(reservationId).block(Duration.ofSeconds(5)).state())
                .isEqualTo(ReservationState.SETTLED);
        assertThat(output(call(client, "job_status", Map.of("jobId", jobId)))).containsEntry("status", "completed")
                .containsEntry("cost", cost.toDecimalString());
    }

    @Autowired
    JobRepository jobRepository;

    @Autowired
    dev.gpubroker.scheduler.Reservations reservations;

    @Test
    void theLogsOfAJobStillLaunchingSayReadOnNotThatTheOutputEnded() throws Exception {
        NewAgent agent = newAgent("early-reader");
        paymentChain.mintTestUsdc(agent.agent().walletAddress(), Usdc.parse("5.00"));
        McpSyncClient client = client(agent.apiKey());
        // demo-slowboot's nodes take 6 s to come up: the first reads land before the job has printed, or even started.
        String reservationId = paidReservation(client, "H200", "demo-slowboot", 1, "early-reader-1");
        String jobId = startJob(client, reservationId, "run-early-reader-1",
                List.of("sh", "-c", "echo printed after a slow launch"));

        Map<String, Object> first = output(call(client, "job_logs", Map.of("jobId", jobId)));
        assertThat(output(call(client, "job_status", Map.of("jobId", jobId))).get("status"))
                .as("read while the job was still launching").isEqualTo("launching");
        assertThat(first.get("lines")).isEqualTo(List.of());
        assertThat(first.get("nextCursor")).as("the output has not ended: there is a cursor to read on with").isNotNull();

        // Followed as the console and the tool's description say: read on with the cursor until it is null.
        List<Object> read = new ArrayList<>();
        Object cursor = first.get("nextCursor");
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (cursor != null) {
            assertThat(System.nanoTime()).as("the output ends once the job has: " + read).isLessThan(deadline);
            Thread.sleep(200);
            Map<String, Object> page = output(call(client, "job_logs", Map.of("jobId", jobId, "cursor", cursor)));
            read.addAll((List<?>) page.get("lines"));
            cursor = page.get("nextCursor");
        }
        assertThat(read).containsExactly("printed after a slow launch");
        assertThat(output(call(client, "job_status", Map.of("jobId", jobId))).get("status")).isEqualTo("completed");
    }

    @Test
    void aLaunchFailureIsNeverBilledAndTheDepositComesBackInFull() throws Exception {
        NewAgent agent = newAgent("unlucky");
        paymentChain.mintTestUsdc(agent.agent().walletAddress(), Usdc.parse("5.00"));
        McpSyncClient client = client(agent.apiKey());
        String reservationId = paidReservation(client, "L40S", "demo-flaky-launch", 60, "unlucky-1");

        String jobId = startJob(client, reservationId, "run-unlucky-1", List.of("true"));
        Map<String, Object> status = awaitSettled(client, jobId);

        assertThat(status).containsEntry("status", "failed").containsEntry("cost", "0.00").containsEntry("refund", "1.00");
        assertThat(status.get("events").toString()).contains("launch_failed").contains("not billed")
                .contains("no_failover").contains("no other live offer fits");
        assertThat(balance(agent.agent().walletAddress())).isEqualTo(BigInteger.valueOf(5_000_000));
    }

    @Test
    void aNodeLostMidRunFailsOverToTheNextBestOfferThatFitsTheEscrowAndOnlyThatRunIsBilled() throws Exception {
        NewAgent agent = newAgent("stranded");
        String wallet = agent.agent().walletAddress();
        String seller = paymentChain.context().payeeAddress();
        paymentChain.mintTestUsdc(wallet, Usdc.parse("5.00"));
        McpSyncClient client = client(agent.apiKey());
        String reservationId = paidReservation(client, "A100-80GB", "demo-lossy", 60, "stranded-1");
        BigInteger sellerBefore = balance(seller);

        // demo-lossy loses its node a second into the run; the job must end on demo-backup (0.90/h fits the 1.00 in
        // escrow), never on demo-pricey (4.00 for the hour does not), and the lost second is never billed.
        String jobId = startJob(client, reservationId, "run-stranded-1",
                List.of("sh", "-c", "sleep 3; echo finished on $GPUBROKER_JOB_ID"));
        Map<String, Object> status = awaitSettled(client, jobId);

        assertThat(status).containsEntry("status", "completed").containsEntry("provider", "demo-backup");
        String events = status.get("events").toString();
        assertThat(events).contains("node_lost").contains("failover").contains("moved to demo-backup offer backup-a100")
                .contains("fits the 1.00 USDC in escrow")
                .contains("demo-pricey (the run would cost 4.00 USDC, more than the 1.00 USDC in escrow)");
        assertThat(events.indexOf("node_lost")).isLessThan(events.indexOf("failover"));
        long gpuSeconds = ((Number) status.get("gpuSeconds")).longValue();
        assertThat(gpuSeconds).as("only the run on demo-backup is metered").isBetween(3L, 7L);
        long costMicros = Math.ceilDiv(900_000L * gpuSeconds, 3600L);
        assertThat(status).containsEntry("cost", Usdc.ofMicros(costMicros).toDecimalString())
                .containsEntry("refund", Usdc.ofMicros(1_000_000 - costMicros).toDecimalString());
        assertThat(balance(wallet)).isEqualTo(BigInteger.valueOf(5_000_000 - costMicros));
        assertThat(balance(seller)).isEqualTo(sellerBefore.add(BigInteger.valueOf(costMicros)));
        assertThat(output(call(client, "job_logs", Map.of("jobId", jobId))).get("lines").toString())
                .contains("finished on " + jobId + "-2");
        // Both holds go back: the lost node's at once, the backup's after settlement.
        long capacityDeadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (count("demo_holds", "hold_id LIKE :h AND released = FALSE", Map.of("h", reservationId + "%")) > 0) {
            assertThat(System.nanoTime()).as("capacity released at both providers").isLessThan(capacityDeadline);
            Thread.sleep(100);
        }
        assertThat(count("demo_holds", "hold_id LIKE :h AND provider = 'demo-backup'", Map.of("h", reservationId + "%")))
                .isEqualTo(1);
    }

    @Test
    void whenNoOtherOfferFitsTheAgentsPolicyANodeLossIsRefundedInFull() throws Exception {
        NewAgent agent = newAgent("fenced");
        paymentChain.mintTestUsdc(agent.agent().walletAddress(), Usdc.parse("5.00"));
        var response = new dev.gpubroker.support.AdminClient(baseUri(), java.nio.file.Path.of(dataDir))
                .put("/admin/v1/agents/" + agent.agent().agentId() + "/policy", "{\"maxPerReservation\": \"100.00\", "
                        + "\"dailyLimit\": null, \"totalLimit\": null, \"maxPricePerGpuHour\": null, \"allowedProviders\": "
                        + "[\"demo-lossy\", \"demo-pricey\"], \"allowedGpus\": null, \"approvalThreshold\": null, \"frozen\": false}");
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        McpSyncClient client = client(agent.apiKey());
        String reservationId = paidReservation(client, "A100-80GB", "demo-lossy", 60, "fenced-1");

        String jobId = startJob(client, reservationId, "run-fenced-1", List.of("sleep", "30"));
        Map<String, Object> status = awaitSettled(client, jobId);

        assertThat(status).containsEntry("status", "failed").containsEntry("cost", "0.00").containsEntry("refund", "1.00")
                .containsEntry("provider", "demo-lossy");
        assertThat(status.get("events").toString()).contains("node_lost").contains("no_failover")
                .contains("demo-backup (not allowed: provider demo-backup is not in this agent's allowed providers")
                .contains("demo-pricey (the run would cost 4.00 USDC").contains("not billed");
        assertThat(balance(agent.agent().walletAddress())).isEqualTo(BigInteger.valueOf(5_000_000));
    }

    @Test
    void cancellingMidRunBillsOnlyWhatWasUsed() throws Exception {
        NewAgent agent = newAgent("impatient");
        paymentChain.mintTestUsdc(agent.agent().walletAddress(), Usdc.parse("50.00"));
        McpSyncClient client = client(agent.apiKey());
        String reservationId = paidReservation(client, "H100", "demo-steady", 60, "impatient-1");
        String jobId = startJob(client, reservationId, "run-impatient-1", List.of("sleep", "60"));
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!"running".equals(output(call(client, "job_status", Map.of("jobId", jobId))).get("status"))) {
            assertThat(System.nanoTime()).isLessThan(deadline);
            Thread.sleep(100);
        }
        Thread.sleep(2_000);
        // While it runs, the meter counts up to now.
        Map<String, Object> running = output(call(client, "job_status", Map.of("jobId", jobId)));
        long soFar = ((Number) running.get("gpuSeconds")).longValue();
        assertThat(soFar).isBetween(2L, 10L);
        assertThat(running).containsEntry("cost", Usdc.ofMicros(soFar * 10_000).toDecimalString())
                .containsEntry("refund", Usdc.parse("36.00").minus(Usdc.ofMicros(soFar * 10_000)).toDecimalString())
                .containsEntry("settlementTx", null);

        output(call(client, "cancel", Map.of("jobId", jobId, "idempotencyKey", "cancel-key-1")));
        Map<String, Object> status = awaitSettled(client, jobId);

        assertThat(status).containsEntry("status", "cancelled");
        long gpuSeconds = ((Number) status.get("gpuSeconds")).longValue();
        assertThat(gpuSeconds).isBetween(soFar, 12L);
        assertThat(balance(agent.agent().walletAddress()))
                .isEqualTo(BigInteger.valueOf(50_000_000 - gpuSeconds * 10_000));
    }

    @Test
    @SuppressWarnings("unchecked")
    void aRunningJobsStatusIsAnsweredFromMemoryWithItsMeterCountingAndTheAgentsCancelShowsAtOnce() throws Exception {
        NewAgent agent = newAgent("polling");
        paymentChain.mintTestUsdc(agent.agent().walletAddress(), Usdc.parse("50.00"));
        McpSyncClient client = client(agent.apiKey());
        String reservationId = paidReservation(client, "H100", "demo-steady", 60, "polling-1");
        String jobId = startJob(client, reservationId, "run-polling-1", List.of("sleep", "60"));
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!"running".equals(output(call(client, "job_status", Map.of("jobId", jobId))).get("status"))) {
            assertThat(System.nanoTime()).isLessThan(deadline);
            Thread.sleep(100);
        }
        double hitsBefore = statusCacheHits();
        long firstMeter = ((Number) output(call(client, "job_status", Map.of("jobId", jobId))).get("gpuSeconds")).longValue();
        for (int i = 0; i < 60; i++) {
            assertThat(output(call(client, "job_status", Map.of("jobId", jobId)))).containsEntry("status", "running");
        }
        Thread.sleep(2_100);
        long laterMeter = ((Number) output(call(client, "job_status", Map.of("jobId", jobId))).get("gpuSeconds")).longValue();

        // Any write to the jobs table makes the next read go to the database: the engine checks every running job of
        // this context each second, and writes when it sees it. Most of 60 calls in a row still come from memory.
        assertThat(statusCacheHits() - hitsBefore).as("answers from memory").isGreaterThanOrEqualTo(30);
        assertThat(laterMeter).as("the meter counts to the moment of each call").isGreaterThanOrEqualTo(firstMeter + 2);

        output(call(client, "cancel", Map.of("jobId", jobId, "idempotencyKey", "cancel-polling-1")));
        Map<String, Object> right = output(call(client, "job_status", Map.of("jobId", jobId)));
        assertThat((List<Map<String, Object>>) right.get("events")).as("the cancel, in the very next call")
                .anySatisfy(event -> assertThat(event).containsEntry("kind", "cancel_requested"));
        assertThat(awaitSettled(client, jobId)).containsEntry("status", "cancelled");
    }

    private double statusCacheHits() {
        var hits = meters.find("gpubroker.read.cache").tag("cache", "job_status").tag("result", "hit").counter();
        return hits == null ? 0 : hits.count();
    }

    @Test
    void aJobRunsOnlyOnAPaidReservationOfItsOwnAgent() throws Exception {
        NewAgent agent = newAgent("hasty");
        McpSyncClient client = client(agent.apiKey());
        String quoteId = (String) quotes(call(client, "quote", Map.of("gpu", "H100", "durationMinutes", 60,
                "providers", List.of("demo-steady")))).getFirst().get("quoteId");
        String held = (String) output(call(client, "reserve", Map.of("quoteId", quoteId, "idempotencyKey", "hasty-key-1")))
                .get("reservationId");
        McpSyncClient intruder = client(newAgent("intruder").apiKey());

        assertThat(error(call(client, "run", Map.of("reservationId", held, "idempotencyKey", "run-hasty-1",
                "command", List.of("true"))))).containsEntry("code", "not_paid");
        assertThat(error(call(intruder, "run", Map.of("reservationId", held, "idempotencyKey", "run-intruder-1",
                "command", List.of("true"))))).containsEntry("code", "reservation_not_found");
        assertThat(error(call(intruder, "job_status", Map.of("jobId", "job_unknown")))).containsEntry("code", "job_not_found");
        assertThat(count("jobs", "reservation_id = :r", Map.of("r", held))).isZero();
    }

    @Test
    void anotherAgentsJobLooksExactlyLikeNoJobToEveryJobTool() throws Exception {
        NewAgent owner = newAgent("job-owner");
        paymentChain.mintTestUsdc(owner.agent().walletAddress(), Usdc.parse("50.00"));
        McpSyncClient ownerClient = client(owner.apiKey());
        String reservationId = paidReservation(ownerClient, "H100", "demo-steady", 60, "job-owner-1");
        String jobId = (String) output(call(ownerClient, "run", Map.of("reservationId", reservationId,
                "idempotencyKey", "run-owned-1", "command", List.of("sleep", "2")))).get("jobId");
        McpSyncClient intruder = client(newAgent("job-intruder").apiKey());

        for (String tool : List.of("job_status", "job_logs")) {
            Map<String, Object> theirs = error(call(intruder, tool, Map.of("jobId", jobId)));
            Map<String, Object> nobodys = error(call(intruder, tool, Map.of("jobId", "job_none")));
            assertThat(theirs.get("code")).isEqualTo(nobodys.get("code")).isEqualTo("job_not_found");
        }
        assertThat(error(call(intruder, "cancel", Map.of("jobId", jobId, "idempotencyKey", "cancel-intruder-1"))))
                .containsEntry("code", "job_not_found");
        assertThat(error(call(intruder, "run", Map.of("reservationId", reservationId, "idempotencyKey", "run-intruder-2",
                "command", List.of("true"))))).containsEntry("code", "reservation_not_found");
        assertThat(awaitSettled(ownerClient, jobId)).containsEntry("status", "completed");
    }

    @Test
    void anOperatorSeesAndCancelsARunningJobAndTheAgentPaysOnlyWhatWasUsed() throws Exception {
        NewAgent agent = newAgent("overseen");
        paymentChain.mintTestUsdc(agent.agent().walletAddress(), Usdc.parse("50.00"));
        McpSyncClient client = client(agent.apiKey());
        String reservationId = paidReservation(client, "H100", "demo-steady", 60, "overseen-1");
        String jobId = startJob(client, reservationId, "run-overseen-1",
                List.of("sh", "-c", "echo the operator reads this; sleep 60"));
        dev.gpubroker.support.AdminClient admin = new dev.gpubroker.support.AdminClient(baseUri(), java.nio.file.Path.of(dataDir));
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!admin.get("/admin/v1/jobs/" + jobId).body().contains("\"status\":\"running\"")) {
            assertThat(System.nanoTime()).isLessThan(deadline);
            Thread.sleep(100);
        }
        assertThat(admin.get("/admin/v1/jobs?agentId=" + agent.agent().agentId()).body()).contains(jobId);
        // The operator's filters narrow the listing, each alone and together.
        assertThat(admin.get("/admin/v1/jobs?agentId=" + agent.agent().agentId() + "&status=running").body())
                .contains(jobId);
        assertThat(admin.get("/admin/v1/jobs?agentId=" + agent.agent().agentId() + "&status=completed").body())
                .doesNotContain(jobId);
        assertThat(admin.get("/admin/v1/jobs?agentId=agt_someone_else").body()).isEqualTo("[]");
        assertThat(admin.get("/admin/v1/jobs?status=running").body()).contains(jobId);
        assertThat(admin.get("/admin/v1/jobs?reservationId=" + reservationId).body()).contains(jobId);
        assertThat(admin.get("/admin/v1/jobs?reservationId=res_none").body()).isEqualTo("[]");
        assertThat(admin.get("/admin/v1/jobs?reservationId=" + reservationId + "&status=completed").body())
                .isEqualTo("[]");
        assertThat(admin.get("/admin/v1/reservations?agentId=" + agent.agent().agentId() + "&status=running").body())
                .contains(reservationId);
        assertThat(admin.get("/admin/v1/reservations?agentId=" + agent.agent().agentId() + "&status=paid").body())
                .isEqualTo("[]");
        assertThat(admin.get("/admin/v1/reservations?status=running").body()).contains(reservationId);
        // The job's output, as the agent reads it with job_logs; a cursor or limit it would refuse is refused.
        deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!admin.get("/admin/v1/jobs/" + jobId + "/logs").body().contains("the operator reads this")) {
            assertThat(System.nanoTime()).isLessThan(deadline);
            Thread.sleep(100);
        }
        assertThat(admin.get("/admin/v1/jobs/" + jobId + "/logs").body()).contains("\"nextCursor\":\"");
        var badCursor = admin.get("/admin/v1/jobs/" + jobId + "/logs?cursor=..%2Fetc");
        assertThat(badCursor.statusCode()).isEqualTo(400);
        assertThat(badCursor.body()).contains("\"field\":\"cursor\"");
        assertThat(admin.get("/admin/v1/jobs/" + jobId + "/logs?limit=0").statusCode()).isEqualTo(400);
        assertThat(admin.get("/admin/v1/jobs/job_none/logs").statusCode()).isEqualTo(404);

        assertThat(admin.post("/admin/v1/jobs/" + jobId + "/cancel", null).statusCode()).isEqualTo(200);
        Map<String, Object> status = awaitSettled(client, jobId);

        assertThat(status).containsEntry("status", "cancelled");
        long gpuSeconds = ((Number) status.get("gpuSeconds")).longValue();
        assertThat(balance(agent.agent().walletAddress())).isEqualTo(BigInteger.valueOf(50_000_000 - gpuSeconds * 10_000));
    }

    @Test
    void anAgentThatKeepsAskingKeepsItsJobAliveThoughItsHeartbeatsAreWrittenAtMostOncePerSecond() throws Exception {
        NewAgent agent = newAgent("attentive");
        paymentChain.mintTestUsdc(agent.agent().walletAddress(), Usdc.parse("50.00"));
        McpSyncClient client = client(agent.apiKey());
        String reservationId = paidReservation(client, "H100", "demo-steady", 60, "attentive-1");
        String jobId = (String) output(call(client, "run", Map.of("reservationId", reservationId,
                "idempotencyKey", "run-attentive-1", "heartbeatSeconds", 2, "command", List.of("sleep", "120")))).get("jobId");

        // Three times the heartbeat interval, asking every 300 ms: most calls write nothing, none lets the job die.
        long until = System.nanoTime() + Duration.ofSeconds(6).toNanos();
        while (System.nanoTime() < until) {
            assertThat(output(call(client, "job_status", Map.of("jobId", jobId))).get("status"))
                    .isIn("launching", "running");
            Thread.sleep(300);
        }

        assertThat(count("job_events", "job_id = :j AND kind = 'dead_man_switch'", Map.of("j", jobId))).isZero();
        output(call(client, "cancel", Map.of("jobId", jobId, "idempotencyKey", "cancel-attentive-1")));
        assertThat(awaitSettled(client, jobId)).containsEntry("status", "cancelled");
    }

    @Test
    void aJobWhoseAgentStopsSendingHeartbeatsIsStoppedAndBilledOnlyForWhatItUsed() throws Exception {
        NewAgent agent = newAgent("forgetful");
        paymentChain.mintTestUsdc(agent.agent().walletAddress(), Usdc.parse("50.00"));
        McpSyncClient client = client(agent.apiKey());
        String reservationId = paidReservation(client, "H100", "demo-steady", 60, "forgetful-1");
        String jobId = (String) output(call(client, "run", Map.of("reservationId", reservationId,
                "idempotencyKey", "run-forgetful-1", "heartbeatSeconds", 2, "command", List.of("sleep", "120")))).get("jobId");

        // The agent goes silent: no job_status, job_logs or cancel. Watch the database instead.
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (count("jobs", "job_id = :j AND state = 'CANCELLED'", Map.of("j", jobId)) == 0) {
            assertThat(System.nanoTime()).as("the dead-man switch stops the job").isLessThan(deadline);
            Thread.sleep(200);
        }
        Map<String, Object> status = awaitSettled(client, jobId);

        assertThat(status.get("events").toString()).contains("dead_man_switch");
        long gpuSeconds = ((Number) status.get("gpuSeconds")).longValue();
        assertThat(gpuSeconds).isBetween(2L, 10L);
        assertThat(balance(agent.agent().walletAddress())).isEqualTo(BigInteger.valueOf(50_000_000 - gpuSeconds * 10_000));
    }

    @Test
    void aJobIsStoppedAtItsMaximumDurationAndNeverBilledMoreThanEscrowed() throws Exception {
        NewAgent agent = newAgent("overrunning");
        paymentChain.mintTestUsdc(agent.agent().walletAddress(), Usdc.parse("5.00"));
        McpSyncClient client = client(agent.apiKey());
        String quoteId = (String) quotes(call(client, "quote", Map.of("gpu", "H100", "durationMinutes", 1,
                "providers", List.of("demo-steady")))).getFirst().get("quoteId");
        String reservationId = (String) output(call(client, "reserve", Map.of("quoteId", quoteId,
                "idempotencyKey", "overrun-reserve"))).get("reservationId");
        output(call(client, "pay", Map.of("reservationId", reservationId, "idempotencyKey", "overrun-pay-1")));
        assertThat(error(call(client, "run", Map.of("reservationId", reservationId, "idempotencyKey", "run-overrun-0",
                "maxDurationMinutes", 2, "command", List.of("sleep", "300"))))).containsEntry("code", "over_paid_duration");

        String jobId = startJob(client, reservationId, "run-overrun-1", List.of("sleep", "300"));
        Map<String, Object> status = awaitSettled(client, jobId);

        assertThat(status).containsEntry("status", "failed").containsEntry("cost", "0.60").containsEntry("refund", "0.00");
        assertThat(status.get("events").toString()).contains("maximum duration");
        assertThat(((Number) status.get("gpuSeconds")).longValue()).isBetween(59L, 65L);
        assertThat(balance(agent.agent().walletAddress())).isEqualTo(BigInteger.valueOf(4_400_000));
    }

    @Test
    void cancellingAReservationReleasesAnUnpaidOneAndRefundsAPaidOneInFull() throws Exception {
        NewAgent agent = newAgent("undecided");
        paymentChain.mintTestUsdc(agent.agent().walletAddress(), Usdc.parse("50.00"));
        McpSyncClient client = client(agent.apiKey());
        String quoteId = (String) quotes(call(client, "quote", Map.of("gpu", "H100", "durationMinutes", 60,
                "providers", List.of("demo-steady")))).getFirst().get("quoteId");
        String unpaid = (String) output(call(client, "reserve", Map.of("quoteId", quoteId, "idempotencyKey",
                "undecided-1"))).get("reservationId");
        String paid = paidReservation(client, "H100", "demo-steady", 60, "undecided-2");

        assertThat(output(call(client, "cancel", Map.of("reservationId", unpaid, "idempotencyKey", "cancel-unpaid-1"))))
                .containsEntry("status", "cancelled");
        assertThat(output(call(client, "cancel", Map.of("reservationId", paid, "idempotencyKey", "cancel-paid-1"))))
                .hasEntrySatisfying("settlementTx", tx -> assertThat(tx).asString().startsWith("0x"));
        assertThat(error(call(client, "cancel", Map.of("idempotencyKey", "cancel-nothing")))).containsEntry("code",
                "invalid_argument");

        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (balance(agent.agent().walletAddress()).compareTo(BigInteger.valueOf(50_000_000)) != 0
                || count("reservations", "reservation_id = :r AND state = 'REFUNDED'", Map.of("r", paid)) == 0) {
            assertThat(System.nanoTime()).as("the paid reservation is refunded in full").isLessThan(deadline);
            Thread.sleep(100);
        }
        assertThat(output(call(client, "account", Map.of()))).containsEntry("escrowed", "0.00");
    }

    @org.springframework.beans.factory.annotation.Value("${gpubroker.data-dir}")
    String dataDir;

    private String startJob(McpSyncClient client, String reservationId, String idempotencyKey, List<String> command) {
        return (String) output(call(client, "run", Map.of("reservationId", reservationId, "idempotencyKey", idempotencyKey,
                "command", command))).get("jobId");
    }

    private BigInteger balance(String address) {
        return paymentChain.context().usdc().balanceOf(address).block(Duration.ofSeconds(10));
    }
}
