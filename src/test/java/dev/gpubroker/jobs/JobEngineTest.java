package dev.gpubroker.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.TestPropertySource;

import io.modelcontextprotocol.client.McpSyncClient;

import dev.gpubroker.identity.NewAgent;
import dev.gpubroker.money.Usdc;
import dev.gpubroker.payments.chain.PaymentChain;
import dev.gpubroker.support.BrokerIntegrationTest;

/**
 * The job engine as several instances see it: a job's lease, held by an instance that died, keeps every other
 * instance away until it runs out; then the job is taken up where it stood and billed from what the provider observed,
 * once.
 */
@TestPropertySource(properties = "gpubroker.market.demo-catalog=classpath:catalogs/jobs.yml")
class JobEngineTest extends BrokerIntegrationTest {

    private static final String DEAD_INSTANCE = "dead-host/4242/0badf00d";

    @Autowired
    PaymentChain paymentChain;

    @Test
    void aJobLeasedByAnInstanceThatDiedIsTakenUpWhenTheLeaseRunsOutAndBilledForWhatTheProviderSaw() throws Exception {
        NewAgent agent = newAgent("orphan");
        String wallet = agent.agent().walletAddress();
        paymentChain.mintTestUsdc(wallet, Usdc.parse("50.00"));
        McpSyncClient client = client(agent.apiKey());
        String reservationId = paidReservation(client, "H100", "demo-steady", 60, "orphan-1");
        String jobId = (String) output(call(client, "run", Map.of("reservationId", reservationId,
                "idempotencyKey", "orphan-run-1", "command", List.of("sh", "-c", "sleep 2; echo done")))).get("jobId");
        awaitStatus(client, jobId, "running", Duration.ofSeconds(20));

        // Another instance claims the job and dies at once: its lease holds for 8 s more.
        Instant leaseEnd = Instant.now().plusSeconds(8);
        db.sql("UPDATE jobs SET lease_holder = :h, lease_until = :until, step_due_at = :now WHERE job_id = :id")
                .bind("h", DEAD_INSTANCE).bind("until", leaseEnd.atOffset(ZoneOffset.UTC))
                .bind("now", Instant.now().atOffset(ZoneOffset.UTC)).bind("id", jobId)
                .fetch().rowsUpdated().block(Duration.ofSeconds(5));

        // The process ends after 2 s; nobody may record it while the dead instance's lease holds.
        Thread.sleep(5_000);
        assertThat(output(call(client, "job_status", Map.of("jobId", jobId))))
                .as("the job is left to its lease holder until the lease runs out").containsEntry("status", "running");

        Map<String, Object> status = awaitStatus(client, jobId, "completed", Duration.ofSeconds(20));
        assertThat(Instant.now()).as("taken up only after the lease ran out").isAfter(leaseEnd);
        long gpuSeconds = ((Number) status.get("gpuSeconds")).longValue();
        assertThat(gpuSeconds).as("billed for the 2 s the provider saw it run, not for the time it waited for its lease")
                .isBetween(2L, 4L);
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (count("reservations", "reservation_id = :r AND state = 'SETTLED'", Map.of("r", reservationId)) == 0) {
            assertThat(System.nanoTime()).as("settled").isLessThan(deadline);
            Thread.sleep(200);
        }
        assertThat(count("job_events", "job_id = :id AND kind = 'completed'", Map.of("id", jobId))).isEqualTo(1);
        assertThat(count("job_events", "job_id = :id AND kind = 'settlement_submitted'", Map.of("id", jobId))).isEqualTo(1);
        assertThat(count("job_events", "job_id = :id AND kind = 'resumed' AND detail LIKE 'followed again%'",
                Map.of("id", jobId))).as("the agent sees that another instance took its job up").isEqualTo(1);
        assertThat(count("chain_transactions", "reference_id = :r AND purpose = 'settle'", Map.of("r", reservationId)))
                .as("paid once").isEqualTo(1);
        long costMicros = gpuSeconds * 10_000;
        assertThat(balance(wallet)).isEqualTo(BigInteger.valueOf(50_000_000 - costMicros));
    }

    @Test
    void aJobStillLaunchingWhenItsInstanceDiedIsLaunchedByAnotherOnce() throws Exception {
        NewAgent agent = newAgent("relaunch");
        paymentChain.mintTestUsdc(agent.agent().walletAddress(), Usdc.parse("50.00"));
        McpSyncClient client = client(agent.apiKey());
        String reservationId = paidReservation(client, "H100", "demo-steady", 60, "relaunch-1");
        String jobId = (String) output(call(client, "run", Map.of("reservationId", reservationId,
                "idempotencyKey", "relaunch-run-1", "command", List.of("sh", "-c", "echo ran once")))).get("jobId");
        // As if the instance that took the call died before the launch was recorded: the step is back at launch,
        // leased to the dead instance for 3 s more.
        db.sql("UPDATE jobs SET step = 'launch', lease_holder = :h, lease_until = :until WHERE job_id = :id")
                .bind("h", DEAD_INSTANCE).bind("until", Instant.now().plusSeconds(3).atOffset(ZoneOffset.UTC))
                .bind("id", jobId).fetch().rowsUpdated().block(Duration.ofSeconds(5));

        awaitStatus(client, jobId, "completed", Duration.ofSeconds(30));
        Map<String, Object> logs = output(call(client, "job_logs", Map.of("jobId", jobId)));
        assertThat(logs.get("lines").toString()).as("a launch taken up again runs the job once, not twice")
                .isEqualTo("[ran once]");
    }

    @Test
    void aCancelRecordedByAnotherInstanceIsCarriedOutByTheInstanceHoldingTheJob() throws Exception {
        NewAgent agent = newAgent("remote-cancel");
        paymentChain.mintTestUsdc(agent.agent().walletAddress(), Usdc.parse("50.00"));
        McpSyncClient client = client(agent.apiKey());
        String reservationId = paidReservation(client, "H100", "demo-steady", 60, "remote-cancel-1");
        String jobId = (String) output(call(client, "run", Map.of("reservationId", reservationId,
                "idempotencyKey", "remote-cancel-run-1", "command", List.of("sleep", "60")))).get("jobId");
        awaitStatus(client, jobId, "running", Duration.ofSeconds(20));

        // What JobService.cancel writes on another instance, which cannot reach this instance's processes.
        db.sql("UPDATE jobs SET cancel_requested = TRUE, step_due_at = :now WHERE job_id = :id")
                .bind("now", Instant.now().atOffset(ZoneOffset.UTC)).bind("id", jobId)
                .fetch().rowsUpdated().block(Duration.ofSeconds(5));

        Map<String, Object> status = awaitStatus(client, jobId, "cancelled", Duration.ofSeconds(15));
        assertThat(((Number) status.get("gpuSeconds")).longValue()).as("billed up to the stop, not the 60 s asked for")
                .isLessThan(20);
    }

    private Map<String, Object> awaitStatus(McpSyncClient client, String jobId, String wanted, Duration within)
            throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (true) {
            Map<String, Object> status = output(call(client, "job_status", Map.of("jobId", jobId)));
            if (wanted.equals(status.get("status"))) {
                return status;
            }
            assertThat(System.nanoTime()).as("job " + jobId + " " + wanted + " in time: " + status).isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    private BigInteger balance(String address) {
        return paymentChain.context().usdc().balanceOf(address).block(Duration.ofSeconds(10));
    }
}
