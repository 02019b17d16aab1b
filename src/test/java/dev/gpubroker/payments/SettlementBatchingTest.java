package dev.gpubroker.payments;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.TestPropertySource;
import org.web3j.protocol.core.methods.response.TransactionReceipt;

import io.modelcontextprotocol.client.McpSyncClient;

import dev.gpubroker.identity.NewAgent;
import dev.gpubroker.money.Usdc;
import dev.gpubroker.payments.chain.EscrowContract;
import dev.gpubroker.payments.chain.EscrowLogs;
import dev.gpubroker.payments.relayer.ChainTransaction;
import dev.gpubroker.payments.relayer.RelayerRefusedException;
import dev.gpubroker.scheduler.Reservation;
import dev.gpubroker.scheduler.ReservationState;
import dev.gpubroker.scheduler.Reservations;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * Batched settlement on (a 4 s window) against the real escrow on anvil: settlements that come within the window go
 * out as one settleBatch, each recorded exactly as its own settle would be; a reservation is in one live settlement at
 * most; a batch the relayer refuses sends its members alone; a membership left by a crash is released and settled.
 * demo-steady's H100 costs 36.00 an hour: 0.01 USDC per GPU-second.
 */
@TestPropertySource(properties = {
        "gpubroker.market.demo-catalog=classpath:catalogs/jobs.yml",
        "gpubroker.chain.settle-batch.window=4s",
        "gpubroker.chain.settle-batch.max=20"})
class SettlementBatchingTest extends PaymentTestSupport {

    private static final Duration WAIT_MAX = Duration.ofSeconds(30);
    private static final Duration POLL_INTERVAL = Duration.ofMillis(100);

    @Autowired
    EscrowSubmissions submissions;

    @Autowired
    EscrowOutcomes outcomes;

    @Autowired
    Reservations reservations;

    @Autowired
    SettlementBatchRepository batchMembers;

    @Autowired
    Reconciliation reconciliation;

    @Test
    void settlementsWithinTheWindowGoOutAsOneTransactionAndEachIsRecordedAsItsOwnSettleWouldBe() throws Exception {
        List<Running> running = List.of(running("batch-a", 10), running("batch-b", 20), running("batch-c", 30));
        List<Usdc> used = List.of(Usdc.parse("1.00"), Usdc.ZERO, Usdc.parse("18.00"));
        String seller = chain().payeeAddress();
        BigInteger sellerBefore = usdcOf(seller);
        BigInteger escrowBefore = escrowBalance();
        List<BigInteger> walletsBefore = running.stream().map(each -> usdcOf(each.wallet())).toList();
        long transactionsBefore = count("chain_transactions");

        List<EscrowSubmission> answers = Flux.range(0, running.size())
                .flatMap(index -> submissions.submit(new EscrowOperation.Settle(running.get(index).reservation(),
                        used.get(index))))
                .collectList().block(WAIT_MAX);

        assertThat(answers).hasSize(3).allSatisfy(answer -> assertThat(answer)
                .isInstanceOf(EscrowSubmission.Submitted.class));
        Set<String> hashes = answers.stream().map(answer -> answer.transaction().hash()).collect(Collectors.toSet());
        assertThat(hashes).as("one transaction for the three").hasSize(1);
        ChainTransaction batch = answers.getFirst().transaction();
        assertThat(batch.purpose()).isEqualTo(EscrowOperation.SETTLE_BATCH_PURPOSE);
        assertThat(count("chain_transactions")).as("one transaction sent").isEqualTo(transactionsBefore + 1);
        running.forEach(each -> awaitState(each.reservation().reservationId(), ReservationState.SETTLED));

        TransactionReceipt receipt = receiptOf(batch);
        Map<String, dev.gpubroker.payments.chain.EscrowEvent.Settled> events =
                EscrowLogs.settledByReservationKey(receipt, chain().escrowAddress());
        assertThat(events).hasSize(3);
        long usedInAll = 0;
        for (int index = 0; index < running.size(); index++) {
            Running each = running.get(index);
            Usdc amount = each.reservation().amount();
            var settled = events.get(EscrowContract.reservationKey(each.reservation().reservationId()));
            assertThat(settled.paidToPayee()).isEqualTo(used.get(index));
            assertThat(settled.refundedToPayer()).isEqualTo(amount.minus(used.get(index)));
            assertThat(usdcOf(each.wallet())).as("exactly its refund back")
                    .isEqualTo(walletsBefore.get(index).add(BigInteger.valueOf(amount.minus(used.get(index)).micros())));
            Usdc refund = amount.minus(used.get(index));
            assertThat(ledgerLinesOf(each.reservation().reservationId())).as("the deposit's two lines, the settlement's "
                    + "escrow line, seller line (when paid) and agent line (when refunded)")
                    .isEqualTo(3 + (used.get(index).isZero() ? 0 : 1) + (refund.isZero() ? 0 : 1));
            assertThat(submissions.findLive(each.reservation().reservationId(), EscrowOperation.SETTLE_PURPOSE)
                    .block(WAIT_MAX).hash()).isEqualTo(batch.hash());
            usedInAll += used.get(index).micros();
        }
        assertThat(usdcOf(seller)).as("the seller gets the sum").isEqualTo(sellerBefore.add(BigInteger.valueOf(usedInAll)));
        assertThat(escrowBalance()).isEqualTo(escrowBefore.subtract(BigInteger.valueOf(
                running.stream().mapToLong(each -> each.reservation().amount().micros()).sum())));
        long ledgerLinesAfter = count("ledger_lines");

        // The tracker delivers a receipt again after a crash: every member is recorded once.
        StepVerifier.create(outcomes.onConfirmed(batch, receipt)).verifyComplete();

        assertThat(count("ledger_lines")).as("recorded once").isEqualTo(ledgerLinesAfter);
        assertThat(ledgerImbalance()).isZero();
        assertThat(reconciliation.run().block(WAIT_MAX).mismatches()).isEmpty();
    }

    @Test
    void jobsEndingWithinTheWindowShareOneSettlementTransaction() throws Exception {
        List<String> names = List.of("job-a", "job-b", "job-c");
        List<McpSyncClient> clients = new ArrayList<>();
        List<String> reservationIds = new ArrayList<>();
        for (String name : names) {
            NewAgent agent = newAgent(name);
            mint(agent.agent().walletAddress(), "50.00");
            McpSyncClient client = client(agent.apiKey());
            clients.add(client);
            reservationIds.add(paidReservation(client, "H100", "demo-steady", 10, name));
        }
        // Started back to back, so that the three end within one window.
        List<String> jobIds = new ArrayList<>();
        for (int index = 0; index < names.size(); index++) {
            jobIds.add((String) output(call(clients.get(index), "run", Map.of("reservationId", reservationIds.get(index),
                    "idempotencyKey", "run-" + names.get(index), "command", List.of("sh", "-c", "sleep 1"))))
                    .get("jobId"));
        }

        List<Map<String, Object>> settled = new ArrayList<>();
        for (int index = 0; index < jobIds.size(); index++) {
            settled.add(awaitSettled(clients.get(index), jobIds.get(index)));
        }

        assertThat(settled).allSatisfy(status -> assertThat(status).containsEntry("status", "completed"));
        assertThat(settled.stream().map(status -> status.get("settlementTx")).distinct()).as("one transaction").hasSize(1);
        String hash = (String) settled.getFirst().get("settlementTx");
        assertThat(count("chain_transactions", "tx_hash = :h AND purpose = 'settle_batch' AND status = 'CONFIRMED'",
                Map.of("h", hash))).isEqualTo(1);
        for (int index = 0; index < jobIds.size(); index++) {
            Map<String, Object> status = output(call(clients.get(index), "job_status", Map.of("jobId", jobIds.get(index))));
            assertThat(status).containsEntry("escrowClosed", true);
            Usdc refund = Usdc.parse((String) status.get("refund"));
            assertThat(refund.plus(Usdc.parse((String) status.get("cost")))).isEqualTo(Usdc.parse("6.00"));
            assertThat(output(call(clients.get(index), "account", Map.of()))).containsEntry("escrowed", "0.00");
        }
        assertThat(ledgerImbalance()).isZero();
    }

    @Test
    void aReservationIsInOneLiveSettlementHoweverOftenItsSettlementIsSubmitted() throws Exception {
        Running first = running("twice-a", 10);
        Running second = running("twice-b", 10);
        Usdc used = Usdc.parse("2.50");
        EscrowOperation.Settle settleFirst = new EscrowOperation.Settle(first.reservation(), used);

        List<EscrowSubmission> answers = Flux.merge(submissions.submit(settleFirst), submissions.submit(settleFirst),
                        submissions.submit(new EscrowOperation.Settle(second.reservation(), used)))
                .collectList().block(WAIT_MAX);

        assertThat(answers.stream().map(answer -> answer.transaction().hash()).distinct()).hasSize(1);
        assertThat(answers.stream().filter(EscrowSubmission.AlreadyLive.class::isInstance)).hasSize(1);
        assertThat(count("settlement_batch_members", "reservation_id = :r", Map.of("r",
                first.reservation().reservationId()))).as("one membership").isEqualTo(1);
        awaitState(first.reservation().reservationId(), ReservationState.SETTLED);
        awaitState(second.reservation().reservationId(), ReservationState.SETTLED);
        // Once confirmed, found through its membership: a later submission (JobRecovery's) sends nothing.
        long transactionsBefore = count("chain_transactions");
        EscrowSubmission later = submissions.submit(settleFirst).block(WAIT_MAX);
        assertThat(later).isInstanceOf(EscrowSubmission.AlreadyLive.class);
        assertThat(later.transaction().hash()).isEqualTo(answers.getFirst().transaction().hash());
        assertThat(count("chain_transactions")).isEqualTo(transactionsBefore);
        assertThat(usdcOf(first.wallet())).isEqualTo(first.walletAfterDeposit()
                .add(BigInteger.valueOf(first.reservation().amount().minus(used).micros())));
        assertThat(ledgerImbalance()).isZero();
    }

    @Test
    void aSettlementAloneInItsWindowIsItsOwnSettleTransaction() throws Exception {
        Running alone = running("alone", 10);

        EscrowSubmission answer = submissions.submit(new EscrowOperation.Settle(alone.reservation(), Usdc.parse("1.00")))
                .block(WAIT_MAX);

        assertThat(answer).isInstanceOf(EscrowSubmission.Submitted.class);
        assertThat(answer.transaction().purpose()).isEqualTo(EscrowOperation.SETTLE_PURPOSE);
        assertThat(count("settlement_batch_members", "reservation_id = :r", Map.of("r",
                alone.reservation().reservationId()))).isZero();
        awaitState(alone.reservation().reservationId(), ReservationState.SETTLED);
        assertThat(ledgerImbalance()).isZero();
    }

    @Test
    void aBatchTheRelayerRefusesSendsItsMembersAloneSoOneBadMemberHoldsUpNoOther() throws Exception {
        Running good = running("refused-good", 10);
        // Held, never paid: nothing of it is in the escrow, so a settleBatch naming it reverts in the gas estimate.
        NewAgent agent = newAgent("refused-bad");
        String heldId = heldReservation(client(agent.apiKey()), "H100", "demo-steady", 10, "refused-bad");
        Reservation notInEscrow = reservations.findById(heldId).block(WAIT_MAX);
        long batchesBefore = count("chain_transactions", "purpose = 'settle_batch'", Map.of());

        List<Object> answers = Flux.merge(
                        submissions.submit(new EscrowOperation.Settle(good.reservation(), Usdc.parse("1.00")))
                                .map(Object.class::cast),
                        submissions.submit(new EscrowOperation.Settle(notInEscrow, Usdc.ZERO))
                                .map(Object.class::cast).onErrorResume(error -> Mono.just(error)))
                .collectList().block(WAIT_MAX);

        assertThat(answers).hasSize(2);
        assertThat(answers).anySatisfy(answer -> assertThat(answer).isInstanceOf(RelayerRefusedException.class));
        EscrowSubmission sent = answers.stream().filter(EscrowSubmission.class::isInstance)
                .map(EscrowSubmission.class::cast).findFirst().orElseThrow();
        assertThat(sent.transaction().purpose()).as("sent alone").isEqualTo(EscrowOperation.SETTLE_PURPOSE);
        assertThat(count("chain_transactions", "purpose = 'settle_batch'", Map.of())).isEqualTo(batchesBefore);
        assertThat(count("settlement_batch_members", "live_reservation_id IN (:a, :b)", Map.of("a",
                good.reservation().reservationId(), "b", heldId))).as("the refused batch's members released").isZero();
        awaitState(good.reservation().reservationId(), ReservationState.SETTLED);
        assertThat(ledgerImbalance()).isZero();
    }

    @Test
    void aMembershipACrashLeftWithoutItsTransactionIsReleasedOnceStaleAndTheReservationSettled() throws Exception {
        Running crashed = running("crashed", 10);
        Running other = running("crashed-other", 10);
        String reservationId = crashed.reservation().reservationId();
        Instant longAgo = Instant.now().minus(SettlementBatcher.UNSENT_BATCH_STALE_AFTER).minusSeconds(1);
        // As a crash after the membership was written and before the relayer stored the batch's transaction.
        assertThat(batchMembers.claim("sbt_crashed", reservationId, Usdc.parse("1.00"), crashed.reservation().amount(),
                longAgo).block(WAIT_MAX)).isTrue();
        assertThat(submissions.findLive(reservationId, EscrowOperation.SETTLE_PURPOSE).block(WAIT_MAX))
                .as("a membership without a transaction settles nothing").isNull();

        List<EscrowSubmission> answers = Flux.merge(
                        submissions.submit(new EscrowOperation.Settle(crashed.reservation(), Usdc.parse("1.00"))),
                        submissions.submit(new EscrowOperation.Settle(other.reservation(), Usdc.parse("1.00"))))
                .collectList().block(WAIT_MAX);

        assertThat(answers).allSatisfy(answer -> assertThat(answer.transaction().purpose())
                .isEqualTo(EscrowOperation.SETTLE_BATCH_PURPOSE));
        assertThat(count("settlement_batch_members", "batch_id = 'sbt_crashed' AND live_reservation_id IS NOT NULL",
                Map.of())).isZero();
        awaitState(reservationId, ReservationState.SETTLED);
        assertThat(ledgerImbalance()).isZero();
    }

    @Test
    void aRevertedBatchReleasesItsMembersAndSettlesEachOneStillRunningOnItsOwn() throws Exception {
        Running first = running("reverted-a", 10);
        Running second = running("reverted-b", 10);
        Usdc used = Usdc.parse("1.50");
        for (Running each : List.of(first, second)) {
            assertThat(batchMembers.claim("sbt_reverted", each.reservation().reservationId(), used,
                    each.reservation().amount(), Instant.now()).block(WAIT_MAX)).isTrue();
        }
        // As the tracker reports a settleBatch mined with status 0: nothing moved on chain.
        ChainTransaction reverted = new ChainTransaction("0x" + "ab".repeat(32), chain().relayerAddress(), 0,
                EscrowOperation.SETTLE_BATCH_PURPOSE, "sbt_reverted", chain().escrowAddress(), "0x", 0, BigInteger.ONE,
                BigInteger.ONE, "0x", ChainTransaction.Status.REVERTED, null, null, Instant.now());

        StepVerifier.create(outcomes.onFailed(reverted, "reverted on chain")).verifyComplete();

        assertThat(count("settlement_batch_members", "batch_id = 'sbt_reverted' AND live_reservation_id IS NOT NULL",
                Map.of())).isZero();
        for (Running each : List.of(first, second)) {
            String reservationId = each.reservation().reservationId();
            assertThat(submissions.findLive(reservationId, EscrowOperation.SETTLE_PURPOSE).block(WAIT_MAX).purpose())
                    .as("settled on its own").isEqualTo(EscrowOperation.SETTLE_PURPOSE);
            awaitState(reservationId, ReservationState.SETTLED);
            assertThat(usdcOf(each.wallet())).isEqualTo(each.walletAfterDeposit()
                    .add(BigInteger.valueOf(each.reservation().amount().minus(used).micros())));
        }
        long transactionsBefore = count("chain_transactions");
        // Delivered again (a crash before the tracker closed the row): nothing more is sent.
        StepVerifier.create(outcomes.onFailed(reverted, "reverted on chain")).verifyComplete();
        assertThat(count("chain_transactions")).isEqualTo(transactionsBefore);
        assertThat(ledgerImbalance()).isZero();
    }

    private record Running(Reservation reservation, String wallet, BigInteger walletAfterDeposit) {
    }

    /** A paid reservation of {@code minutes} of demo-steady's H100 (0.60 a minute), moved to running as a job does. */
    private Running running(String name, int minutes) throws Exception {
        NewAgent agent = newAgent(name);
        String wallet = agent.agent().walletAddress();
        mint(wallet, "50.00");
        McpSyncClient client = client(agent.apiKey());
        String reservationId = paidReservation(client, "H100", "demo-steady", minutes, name);
        assertThat(reservations.startRunning(reservationId, "a job started", Instant.now()).block(WAIT_MAX).moved())
                .isTrue();
        return new Running(reservations.findById(reservationId).block(WAIT_MAX), wallet, usdcOf(wallet));
    }

    private TransactionReceipt receiptOf(ChainTransaction sent) {
        return chain().client().receipt(sent.hash()).block(WAIT_MAX).orElseThrow();
    }

    private long ledgerLinesOf(String reservationId) {
        return count("ledger_lines", "reservation_id = :r", Map.of("r", reservationId));
    }

    private void awaitState(String reservationId, ReservationState expected) {
        Reservation reached = Flux.interval(POLL_INTERVAL)
                .onBackpressureDrop()
                .concatMap(tick -> reservations.findById(reservationId), 1)
                .filter(current -> current.state() == expected)
                .next()
                .timeout(WAIT_MAX)
                .block();
        assertThat(reached.state()).isEqualTo(expected);
    }
}
