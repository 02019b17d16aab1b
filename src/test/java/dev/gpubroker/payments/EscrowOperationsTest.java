package dev.gpubroker.payments;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.TestPropertySource;
import org.web3j.protocol.core.methods.response.TransactionReceipt;

import io.modelcontextprotocol.client.McpSyncClient;

import dev.gpubroker.identity.NewAgent;
import dev.gpubroker.money.Usdc;
import dev.gpubroker.payments.relayer.ChainTransaction;
import dev.gpubroker.scheduler.Reservation;
import dev.gpubroker.scheduler.ReservationState;
import dev.gpubroker.scheduler.Reservations;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

/**
 * The escrow operations against the real escrow on anvil: each is submitted once per reservation and purpose,
 * refused before anything is sent when it would take more than was escrowed, and its receipt recorded once however
 * often it is delivered (the tracker delivers one again after a crash, or from another instance).
 */
@TestPropertySource(properties = "gpubroker.market.demo-catalog=classpath:catalogs/payments.yml")
class EscrowOperationsTest extends PaymentTestSupport {

    private static final Duration WAIT_MAX = Duration.ofSeconds(20);
    private static final Duration POLL_INTERVAL = Duration.ofMillis(100);

    @Autowired
    EscrowSubmissions submissions;

    @Autowired
    EscrowOutcomes outcomes;

    @Autowired
    Reservations reservations;

    @Test
    void aDepositIsSubmittedOnceAndItsReceiptDeliveredAgainRecordsNothingMore() throws Exception {
        Paid paid = paidReservation("deposit-twice");
        ChainTransaction deposit = submissions.findLive(paid.paymentId(), EscrowOperation.DEPOSIT_PURPOSE)
                .block(WAIT_MAX);
        assertThat(deposit).isNotNull();
        long transactionsBefore = count("chain_transactions");
        long ledgerLinesBefore = ledgerLinesOf(paid.reservationId());
        BigInteger escrowBefore = escrowBalance();

        EscrowSubmission again = submissions.submit(new EscrowOperation.Deposit(paid.paymentId(), paid.reservationId(),
                "0x")).block(WAIT_MAX);
        StepVerifier.create(outcomes.onConfirmed(deposit, receiptOf(deposit))).verifyComplete();

        assertThat(again).isInstanceOf(EscrowSubmission.AlreadyLive.class);
        assertThat(again.transaction().hash()).isEqualTo(deposit.hash());
        assertThat(count("chain_transactions")).as("nothing new sent").isEqualTo(transactionsBefore);
        assertThat(ledgerLinesOf(paid.reservationId())).as("recorded once").isEqualTo(ledgerLinesBefore).isEqualTo(2);
        assertThat(escrowBalance()).isEqualTo(escrowBefore);
        assertThat(reservations.findById(paid.reservationId()).block(WAIT_MAX).state()).isEqualTo(ReservationState.PAID);
        assertThat(ledgerImbalance()).isZero();
    }

    @Autowired
    dev.gpubroker.ledger.Ledger ledger;

    @Autowired
    dev.gpubroker.policy.PolicyService policies;

    @Test
    void theOwnersAnswerWhatTheirStepDidAndASecondStepChangesNothing() throws Exception {
        Paid paid = paidReservation("owner-steps");
        ChainTransaction deposit = submissions.findLive(paid.paymentId(), EscrowOperation.DEPOSIT_PURPOSE)
                .block(WAIT_MAX);
        // The ledger: the deposit's entry is there already (keyed to its chain log); writing it again writes nothing.
        var again = dev.gpubroker.ledger.LedgerEntry.transfer(dev.gpubroker.ledger.LedgerEntry.newId(),
                paid.reservationId(), deposit.hash(), depositLogIndex(deposit), "deposit into escrow",
                dev.gpubroker.ledger.LedgerAccounts.agentWallet("agt_x"),
                dev.gpubroker.ledger.LedgerAccounts.escrow(paid.reservationId()),
                reservations.findById(paid.reservationId()).block(WAIT_MAX).amount());
        assertThat(ledger.record(again).block(WAIT_MAX)).isInstanceOf(dev.gpubroker.ledger.LedgerWrite.AlreadyRecorded.class);
        // The reservation: paid, so it cannot be marked paid again, nor claimed by another payment.
        assertThat(reservations.markPaid(paid.reservationId(), paid.paymentId(), Instant.now()).block(WAIT_MAX))
                .isInstanceOf(dev.gpubroker.scheduler.ReservationMove.Unchanged.class);
        assertThat(reservations.claimForPayment(paid.reservationId(), "pay_other").block(WAIT_MAX).marked()).isFalse();
        // The budget: released once; a second release finds nothing held.
        assertThat(policies.releaseBudget(paid.reservationId()).block(WAIT_MAX))
                .isInstanceOf(dev.gpubroker.policy.BudgetChange.Changed.class);
        assertThat(policies.releaseBudget(paid.reservationId()).block(WAIT_MAX))
                .isInstanceOf(dev.gpubroker.policy.BudgetChange.NothingHeld.class);
        assertThat(ledgerLinesOf(paid.reservationId())).isEqualTo(2);
        assertThat(ledgerImbalance()).isZero();
    }

    private int depositLogIndex(ChainTransaction deposit) throws Exception {
        return dev.gpubroker.payments.chain.EscrowLogs.deposited(receiptOf(deposit), chain().escrowAddress()).logIndex();
    }

    @Test
    void settlingMoreThanWasEscrowedIsRefusedBeforeAnythingIsSent() throws Exception {
        Paid paid = paidReservation("settle-too-much");
        Reservation running = run(paid.reservationId());
        long transactionsBefore = count("chain_transactions");
        BigInteger escrowBefore = escrowBalance();

        StepVerifier.create(submissions.submit(new EscrowOperation.Settle(running,
                        running.amount().plus(Usdc.ofMicros(1)))))
                .expectErrorSatisfies(refused -> assertThat(refused).isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("would take more than the 2.40 USDC escrowed"))
                .verify(WAIT_MAX);

        assertThat(count("chain_transactions")).as("nothing sent").isEqualTo(transactionsBefore);
        assertThat(submissions.findLive(paid.reservationId(), EscrowOperation.SETTLE_PURPOSE).block(WAIT_MAX)).isNull();
        assertThat(escrowBalance()).isEqualTo(escrowBefore);
        assertThat(reservations.findById(paid.reservationId()).block(WAIT_MAX).state())
                .isEqualTo(ReservationState.RUNNING);
    }

    @Test
    void aSettlementIsSubmittedOnceAndItsReceiptDeliveredAgainRecordsNothingMore() throws Exception {
        Paid paid = paidReservation("settle-twice");
        Reservation running = run(paid.reservationId());
        Usdc used = Usdc.parse("1.00");
        BigInteger escrowBefore = escrowBalance();

        EscrowSubmission first = submissions.submit(new EscrowOperation.Settle(running, used)).block(WAIT_MAX);
        EscrowSubmission second = submissions.submit(new EscrowOperation.Settle(running, used)).block(WAIT_MAX);

        assertThat(first).isInstanceOf(EscrowSubmission.Submitted.class);
        assertThat(second).isInstanceOf(EscrowSubmission.AlreadyLive.class);
        assertThat(second.transaction().hash()).isEqualTo(first.transaction().hash());
        assertThat(count("chain_transactions", "reference_id = :r AND purpose = 'settle'",
                Map.of("r", paid.reservationId()))).isEqualTo(1);
        awaitState(paid.reservationId(), ReservationState.SETTLED);
        long ledgerLinesAfterSettlement = ledgerLinesOf(paid.reservationId());

        ChainTransaction settlement = submissions.findLive(paid.reservationId(), EscrowOperation.SETTLE_PURPOSE)
                .block(WAIT_MAX);
        StepVerifier.create(outcomes.onConfirmed(settlement, receiptOf(settlement))).verifyComplete();

        // The deposit's two lines and the settlement's three (escrow out; seller and agent in).
        assertThat(ledgerLinesAfterSettlement).isEqualTo(5);
        assertThat(ledgerLinesOf(paid.reservationId())).as("recorded once").isEqualTo(ledgerLinesAfterSettlement);
        assertThat(escrowBalance()).isEqualTo(escrowBefore.subtract(BigInteger.valueOf(2_400_000)));
        assertThat(ledgerImbalance()).isZero();
    }

    @Test
    void aRefundIsSubmittedOnceAndItsReceiptDeliveredAgainRecordsNothingMore() throws Exception {
        Paid paid = paidReservation("refund-twice");
        Reservation running = run(paid.reservationId());
        BigInteger walletBefore = usdcOf(paid.wallet());

        EscrowSubmission first = submissions.submit(new EscrowOperation.Refund(running)).block(WAIT_MAX);
        EscrowSubmission second = submissions.submit(new EscrowOperation.Refund(running)).block(WAIT_MAX);

        assertThat(first).isInstanceOf(EscrowSubmission.Submitted.class);
        assertThat(second).isInstanceOf(EscrowSubmission.AlreadyLive.class);
        assertThat(second.transaction().hash()).isEqualTo(first.transaction().hash());
        awaitState(paid.reservationId(), ReservationState.REFUNDED);
        long ledgerLinesAfterRefund = ledgerLinesOf(paid.reservationId());

        ChainTransaction refund = submissions.findLive(paid.reservationId(), EscrowOperation.REFUND_PURPOSE)
                .block(WAIT_MAX);
        StepVerifier.create(outcomes.onConfirmed(refund, receiptOf(refund))).verifyComplete();

        assertThat(ledgerLinesAfterRefund).isEqualTo(4);
        assertThat(ledgerLinesOf(paid.reservationId())).as("recorded once").isEqualTo(ledgerLinesAfterRefund);
        assertThat(usdcOf(paid.wallet())).isEqualTo(walletBefore.add(BigInteger.valueOf(2_400_000)));
        assertThat(ledgerImbalance()).isZero();
    }

    @Test
    void onlyARefundingOrRunningReservationIsRefunded() throws Exception {
        Paid paid = paidReservation("refund-paid");
        Reservation paidReservation = reservations.findById(paid.reservationId()).block(WAIT_MAX);
        long transactionsBefore = count("chain_transactions");

        StepVerifier.create(submissions.submit(new EscrowOperation.Refund(paidReservation)))
                .expectErrorSatisfies(refused -> assertThat(refused).isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("not a paid one"))
                .verify(WAIT_MAX);
        assertThat(count("chain_transactions")).isEqualTo(transactionsBefore);
    }

    private record Paid(String reservationId, String paymentId, String wallet) {
    }

    private Paid paidReservation(String name) throws Exception {
        NewAgent agent = newAgent(name);
        String wallet = agent.agent().walletAddress();
        mint(wallet, "20.00");
        McpSyncClient client = client(agent.apiKey());
        String reservationId = (String) reserve(client, "H100", 60, "reserve-" + name).get("reservationId");
        Map<String, Object> payment = output(call(client, "pay", Map.of("reservationId", reservationId,
                "idempotencyKey", "pay-" + name)));
        assertThat(payment).containsEntry("status", "confirmed");
        return new Paid(reservationId, (String) payment.get("paymentId"), wallet);
    }

    /** As a job's start does: the reservation is running, and only a settlement or a refund closes it. */
    private Reservation run(String reservationId) {
        assertThat(reservations.startRunning(reservationId, "a job started", Instant.now()).block(WAIT_MAX).moved())
                .isTrue();
        return reservations.findById(reservationId).block(WAIT_MAX);
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
