package dev.gpubroker.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.TestPropertySource;

import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;

import dev.gpubroker.identity.NewAgent;
import dev.gpubroker.money.Usdc;
import dev.gpubroker.payments.EscrowState;
import dev.gpubroker.payments.Reconciliation;
import dev.gpubroker.payments.chain.EscrowDeposit;
import dev.gpubroker.payments.chain.PaymentChain;
import dev.gpubroker.support.BrokerIntegrationTest;

/**
 * A cancel races the other calls that move a reservation's money, each ordering many times, with the escrow checked on
 * the real chain afterwards. The chain mines a block every second, as a real one does, so deposits, refunds and
 * settlements wait in the mempool and the races have room to interleave.
 */
@TestPropertySource(properties = {
        "gpubroker.market.demo-catalog=classpath:catalogs/jobs.yml",
        "gpubroker.chain.embedded-block-time=1s"})
class CancelRacesTest extends BrokerIntegrationTest {

    private static final int ITERATIONS = 100;
    private static final int AT_ONCE = 10;
    /** How much later than the run each of the AT_ONCE cancels is sent (negative: earlier). */
    private static final long[] RUN_HEAD_STARTS_MILLIS = {-40, -20, -10, 0, 10, 20, 40, 100, 250, 600};
    private static final Duration SETTLE_WAIT = Duration.ofSeconds(120);

    @Autowired
    PaymentChain paymentChain;

    @Autowired
    EscrowState escrow;

    @Autowired
    Reconciliation reconciliation;

    private final ExecutorService pool = Executors.newFixedThreadPool(2 * AT_ONCE);

    @AfterEach
    void stopPool() {
        pool.shutdownNow();
    }

    /** One reservation's race: what each call answered. */
    private record Race(String reservationId, CallToolResult run, CallToolResult cancel) {
    }

    @Test
    void aCancelRacingARunEndsInAFullRefundOrABilledJobNeverBoth() throws Exception {
        NewAgent agent = newAgent("run-racer");
        String wallet = agent.agent().walletAddress();
        paymentChain.mintTestUsdc(wallet, Usdc.parse("100.00"));
        List<McpSyncClient> clients = clients(agent.apiKey());
        BigInteger moneyBefore = money(wallet);

        List<Race> races = new ArrayList<>();
        for (int batch = 0; batch < ITERATIONS / AT_ONCE; batch++) {
            int done = races.size();
            List<String> paid = inParallel(AT_ONCE, i -> paidReservation(clients.get(i), "H100", "demo-steady", 1,
                    "run-race-" + done + "-" + i));
            List<CompletableFuture<Race>> racing = new ArrayList<>();
            for (int i = 0; i < AT_ONCE; i++) {
                String reservationId = paid.get(i);
                // Close races (the cancel 40 ms ahead of the run to 40 ms behind it), and a few where the run has a
                // head start (up to 600 ms), so that the run wins some even where starting a job takes longer (on
                // PostgreSQL, on a loaded machine): each race's outcome is checked either way.
                long cancelDelayMillis = RUN_HEAD_STARTS_MILLIS[i % RUN_HEAD_STARTS_MILLIS.length];
                McpSyncClient runner = clients.get(i);
                McpSyncClient canceller = clients.get(AT_ONCE + i);
                CompletableFuture<CallToolResult> run = later(Math.max(0, -cancelDelayMillis), () -> call(runner, "run",
                        Map.of("reservationId", reservationId, "idempotencyKey", "run-" + reservationId,
                                "command", List.of("sleep", "30"))));
                CompletableFuture<CallToolResult> cancel = later(Math.max(0, cancelDelayMillis), () -> call(canceller,
                        "cancel", Map.of("reservationId", reservationId, "idempotencyKey", "cancel-" + reservationId)));
                racing.add(run.thenCombine(cancel, (ran, cancelled) -> new Race(reservationId, ran, cancelled)));
            }
            for (CompletableFuture<Race> race : racing) {
                races.add(race.get(60, TimeUnit.SECONDS));
            }
        }

        int refunded = 0;
        int billed = 0;
        for (Race race : races) {
            EscrowDeposit deposit = awaitClosedOnChain(race.reservationId());
            long jobs = count("jobs", "reservation_id = :r", Map.of("r", race.reservationId()));
            if (Boolean.TRUE.equals(race.run().isError())) {
                refunded++;
                assertThat(error(race.run())).as(race.toString()).containsEntry("code", "reservation_cancelled");
                assertThat(jobs).as("no job ever started on " + race.reservationId()).isZero();
                assertThat(deposit.state()).as(race.toString()).isEqualTo(EscrowDeposit.State.REFUNDED);
                assertThat(deposit.refunded()).isEqualTo(deposit.amount());
            } else {
                billed++;
                assertThat(jobs).isEqualTo(1);
                assertThat(deposit.state()).as("a reservation whose job started is settled, never refunded whole: " + race)
                        .isEqualTo(EscrowDeposit.State.SETTLED);
                long cost = db.sql("SELECT cost_micros FROM jobs WHERE reservation_id = :r")
                        .bind("r", race.reservationId()).map(row -> row.get("cost_micros", Number.class).longValue())
                        .one().block(Duration.ofSeconds(5));
                assertThat(deposit.paidOut()).as("the seller got exactly the job's bill").isEqualTo(BigInteger.valueOf(cost));
                assertThat(output(race.cancel())).containsKey("jobId");
            }
            assertThat(count("reservations", "reservation_id = :r AND state IN ('SETTLED', 'REFUNDED')",
                    Map.of("r", race.reservationId()))).as(race.reservationId() + " closed").isEqualTo(1);
        }
        System.out.printf("cancel vs run, %d races: %d refunded whole (run refused), %d jobs stopped and billed%n",
                races.size(), refunded, billed);
        assertThat(refunded).as("the cancel won some races").isPositive();
        assertThat(billed).as("the run won some races").isPositive();
        assertMoneyConserved(wallet, moneyBefore);
    }

    @Test
    void aCancelRacingAPaymentNeverLeavesADepositBehind() throws Exception {
        NewAgent agent = newAgent("pay-racer");
        String wallet = agent.agent().walletAddress();
        paymentChain.mintTestUsdc(wallet, Usdc.parse("100.00"));
        List<McpSyncClient> clients = clients(agent.apiKey());
        BigInteger walletBefore = balance(wallet);
        BigInteger escrowBefore = balance(paymentChain.context().escrowAddress());

        List<String> reservations = new ArrayList<>();
        for (int batch = 0; batch < ITERATIONS / AT_ONCE; batch++) {
            int done = reservations.size();
            List<String> held = inParallel(AT_ONCE, i -> heldReservation(clients.get(i), "H100", "demo-steady", 1,
                    "pay-race-" + done + "-" + i));
            List<CompletableFuture<?>> racing = new ArrayList<>();
            for (int i = 0; i < AT_ONCE; i++) {
                String reservationId = held.get(i);
                // The cancel lands from before the payment's claim to after its deposit is mined.
                long cancelDelayMillis = i * 120L;
                McpSyncClient payer = clients.get(i);
                McpSyncClient canceller = clients.get(AT_ONCE + i);
                racing.add(later(0, () -> call(payer, "pay", Map.of("reservationId", reservationId,
                        "idempotencyKey", "pay-" + reservationId))));
                racing.add(later(cancelDelayMillis, () -> call(canceller, "cancel", Map.of("reservationId", reservationId,
                        "idempotencyKey", "cancel-" + reservationId))));
            }
            for (CompletableFuture<?> call : racing) {
                call.get(60, TimeUnit.SECONDS);
            }
            reservations.addAll(held);
        }

        int cancelledUnpaid = 0;
        int refunded = 0;
        for (String reservationId : reservations) {
            String state = awaitFinalState(reservationId);
            EscrowDeposit deposit = escrow.of(reservationId).block(Duration.ofSeconds(10));
            if (state.equals("CANCELLED")) {
                cancelledUnpaid++;
                assertThat(deposit.state()).as("a cancelled reservation has nothing in escrow: " + reservationId)
                        .isEqualTo(EscrowDeposit.State.NONE);
            } else {
                refunded++;
                assertThat(state).isEqualTo("REFUNDED");
                assertThat(deposit.state()).as("a deposit that confirmed after the cancel came back: " + reservationId)
                        .isEqualTo(EscrowDeposit.State.REFUNDED);
            }
        }
        System.out.printf("cancel vs pay, %d races: %d cancelled before anything was paid, %d refunded after the deposit "
                + "confirmed%n", reservations.size(), cancelledUnpaid, refunded);
        assertThat(cancelledUnpaid).isPositive();
        assertThat(refunded).isPositive();
        assertThat(balance(wallet)).as("every cent is back in the agent's wallet").isEqualTo(walletBefore);
        assertThat(balance(paymentChain.context().escrowAddress())).isEqualTo(escrowBefore);
        assertThat(output(call(clients.getFirst(), "account", Map.of()))).containsEntry("escrowed", "0.00");
        assertThat(reconciliation.run().block(Duration.ofSeconds(30)).mismatches()).isEmpty();
    }

    @Test
    void inEitherSequentialOrderTheSecondCallSeesTheFirst() throws Exception {
        NewAgent agent = newAgent("orderly");
        String wallet = agent.agent().walletAddress();
        paymentChain.mintTestUsdc(wallet, Usdc.parse("20.00"));
        McpSyncClient client = client(agent.apiKey());

        String cancelledFirst = paidReservation(client, "H100", "demo-steady", 1, "orderly-1");
        assertThat(output(call(client, "cancel", Map.of("reservationId", cancelledFirst, "idempotencyKey", "cancel-first-1"))))
                .containsEntry("status", "refunding");
        Map<String, Object> refusedRun = error(call(client, "run", Map.of("reservationId", cancelledFirst,
                "idempotencyKey", "run-second-1", "command", List.of("true"))));
        assertThat(refusedRun).containsEntry("code", "reservation_cancelled").containsEntry("field", "reservationId");
        assertThat(count("jobs", "reservation_id = :r", Map.of("r", cancelledFirst))).isZero();

        String ranFirst = paidReservation(client, "H100", "demo-steady", 1, "orderly-2");
        String jobId = (String) output(call(client, "run", Map.of("reservationId", ranFirst, "idempotencyKey", "run-first-2",
                "command", List.of("sleep", "30")))).get("jobId");
        Map<String, Object> stopping = output(call(client, "cancel", Map.of("reservationId", ranFirst,
                "idempotencyKey", "cancel-second-2")));
        assertThat(stopping).containsEntry("jobId", jobId);

        assertThat(awaitClosedOnChain(cancelledFirst).state()).isEqualTo(EscrowDeposit.State.REFUNDED);
        assertThat(awaitClosedOnChain(ranFirst).state()).isEqualTo(EscrowDeposit.State.SETTLED);
    }

    private List<McpSyncClient> clients(String apiKey) {
        List<McpSyncClient> clients = new ArrayList<>();
        for (int i = 0; i < 2 * AT_ONCE; i++) {
            clients.add(client(apiKey));
        }
        return clients;
    }

    private <T> CompletableFuture<T> later(long delayMillis, Supplier<T> call) {
        return CompletableFuture.supplyAsync(call, CompletableFuture.delayedExecutor(delayMillis, TimeUnit.MILLISECONDS, pool));
    }

    private interface Indexed<T> {
        T apply(int index) throws Exception;
    }

    private <T> List<T> inParallel(int count, Indexed<T> task) throws Exception {
        List<java.util.concurrent.Future<T>> futures = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int index = i;
            futures.add(pool.submit(() -> task.apply(index)));
        }
        List<T> results = new ArrayList<>();
        for (var future : futures) {
            results.add(future.get(60, TimeUnit.SECONDS));
        }
        return results;
    }

    private EscrowDeposit awaitClosedOnChain(String reservationId) throws InterruptedException {
        long deadline = System.nanoTime() + SETTLE_WAIT.toNanos();
        while (true) {
            EscrowDeposit deposit = escrow.of(reservationId).block(Duration.ofSeconds(10));
            boolean recorded = count("reservations", "reservation_id = :r AND state IN ('SETTLED', 'REFUNDED')",
                    Map.of("r", reservationId)) == 1;
            if (deposit.state() != EscrowDeposit.State.DEPOSITED && recorded) {
                return deposit;
            }
            assertThat(System.nanoTime()).as("the escrow of " + reservationId + " is closed in time: " + deposit)
                    .isLessThan(deadline);
            Thread.sleep(200);
        }
    }

    private String awaitFinalState(String reservationId) throws InterruptedException {
        long deadline = System.nanoTime() + SETTLE_WAIT.toNanos();
        while (true) {
            String state = db.sql("SELECT state FROM reservations WHERE reservation_id = :r").bind("r", reservationId)
                    .map(row -> row.get("state", String.class)).one().block(Duration.ofSeconds(5));
            if (state.equals("CANCELLED") || state.equals("REFUNDED")) {
                return state;
            }
            assertThat(System.nanoTime()).as(reservationId + " ends cancelled or refunded, not " + state)
                    .isLessThan(deadline);
            Thread.sleep(200);
        }
    }

    /** The agent's wallet, the seller and the escrow together: money only moves between them. */
    private BigInteger money(String wallet) {
        return balance(wallet).add(balance(paymentChain.context().payeeAddress()))
                .add(balance(paymentChain.context().escrowAddress()));
    }

    private void assertMoneyConserved(String wallet, BigInteger before) {
        assertThat(money(wallet)).as("no USDC appeared or vanished").isEqualTo(before);
        assertThat(reconciliation.run().block(Duration.ofSeconds(30)).mismatches()).isEmpty();
    }

    private BigInteger balance(String address) {
        return paymentChain.context().usdc().balanceOf(address).block(Duration.ofSeconds(10));
    }
}
