package dev.gpubroker.payments;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;
import org.springframework.test.context.TestPropertySource;

import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;

import dev.gpubroker.identity.NewAgent;

@TestPropertySource(properties = "gpubroker.market.demo-catalog=classpath:catalogs/payments.yml")
class CustodialPaymentTest extends PaymentTestSupport {

    @Test
    void aCustodialAgentPaysIntoEscrowAndTheReservationIsPaidOnceConfirmed() throws Exception {
        NewAgent agent = newAgent("payer");
        String wallet = agent.agent().walletAddress();
        mint(wallet, "100.00");
        McpSyncClient client = client(agent.apiKey());
        Map<String, Object> reservation = reserve(client, "H100", 60, "reserve-pay-1");
        BigInteger escrowBefore = escrowBalance();

        Map<String, Object> payment = output(call(client, "pay",
                Map.of("reservationId", reservation.get("reservationId"), "idempotencyKey", "pay-key-1")));

        assertThat(payment).containsEntry("status", "confirmed").containsEntry("amount", "2.40")
                .containsEntry("method", "custodial").containsEntry("payer", wallet);
        assertThat((String) payment.get("txHash")).startsWith("0x").hasSize(66);
        assertThat(usdcOf(wallet)).isEqualTo(BigInteger.valueOf(97_600_000));
        assertThat(escrowBalance().subtract(escrowBefore)).isEqualTo(BigInteger.valueOf(2_400_000));
        Map<String, Object> account = output(call(client, "account", Map.of()));
        assertThat(account).containsEntry("usdcBalance", "97.60").containsEntry("escrowed", "2.40")
                .containsEntry("walletCustody", "custodial").containsEntry("network", "eip155:31337");
        assertThat(account.get("reservations")).asInstanceOf(org.assertj.core.api.InstanceOfAssertFactories.LIST)
                .anySatisfy(entry -> assertThat(String.valueOf(entry)).contains("status=paid"));
        // Double entry, keyed to the deposit transaction's Deposited log.
        assertThat(count("ledger_lines", "tx_hash = :tx AND log_index IS NOT NULL", Map.of("tx", payment.get("txHash"))))
                .isEqualTo(2);
        assertThat(ledgerImbalance()).isZero();
    }

    @Test
    void retriesNeverPayAReservationTwice() throws Exception {
        NewAgent agent = newAgent("retrier");
        mint(agent.agent().walletAddress(), "100.00");
        McpSyncClient client = client(agent.apiKey());
        Map<String, Object> reservation = reserve(client, "L40S", 60, "reserve-retry-1");
        Map<String, Object> first = output(call(client, "pay",
                Map.of("reservationId", reservation.get("reservationId"), "idempotencyKey", "pay-retry-1")));
        BigInteger escrowAfterFirst = escrowBalance();

        Map<String, Object> replay = output(call(client, "pay",
                Map.of("reservationId", reservation.get("reservationId"), "idempotencyKey", "pay-retry-1")));
        Map<String, Object> secondKey = error(call(client, "pay",
                Map.of("reservationId", reservation.get("reservationId"), "idempotencyKey", "pay-retry-2")));

        assertThat(replay).containsEntry("paymentId", first.get("paymentId")).containsEntry("txHash", first.get("txHash"))
                .containsEntry("replayed", true).containsEntry("status", "confirmed");
        assertThat(secondKey).containsEntry("code", "already_paid");
        assertThat(escrowBalance()).isEqualTo(escrowAfterFirst);
        assertThat(count("payments", "reservation_id = :r", Map.of("r", reservation.get("reservationId")))).isEqualTo(1);
        assertThat(count("chain_transactions", "purpose = 'deposit' AND reference_id = :p",
                Map.of("p", first.get("paymentId")))).isEqualTo(1);
    }

    @Test
    void anAgentWithoutEnoughUsdcIsToldWhereToSendItAndNothingMoves() throws Exception {
        NewAgent agent = newAgent("broke");
        McpSyncClient client = client(agent.apiKey());
        Map<String, Object> reservation = reserve(client, "H100", 30, "reserve-broke-1");
        BigInteger escrowBefore = escrowBalance();

        Map<String, Object> error = error(call(client, "pay",
                Map.of("reservationId", reservation.get("reservationId"), "idempotencyKey", "pay-broke-1")));

        assertThat(error).containsEntry("code", "insufficient_usdc");
        assertThat((String) error.get("nextStep")).contains(agent.agent().walletAddress()).contains("eip155:31337");
        assertThat(escrowBalance()).isEqualTo(escrowBefore);
        assertThat(count("payments", "reservation_id = :r", Map.of("r", reservation.get("reservationId")))).isZero();

        // Funded, the same reservation can be paid.
        mint(agent.agent().walletAddress(), "5.00");
        assertThat(output(call(client, "pay", Map.of("reservationId", reservation.get("reservationId"),
                "idempotencyKey", "pay-broke-2")))).containsEntry("status", "confirmed");
    }

    @Test
    void anotherAgentsReservationLooksUnknown() throws Exception {
        NewAgent owner = newAgent("owner");
        mint(owner.agent().walletAddress(), "10.00");
        Map<String, Object> reservation = reserve(client(owner.apiKey()), "H100", 30, "reserve-owned-1");
        McpSyncClient intruder = client(newAgent("intruder").apiKey());

        Map<String, Object> error = error(call(intruder, "pay",
                Map.of("reservationId", reservation.get("reservationId"), "idempotencyKey", "pay-steal-1")));

        assertThat(error).containsEntry("code", "reservation_not_found");
        assertThat(usdcOf(owner.agent().walletAddress())).isEqualTo(BigInteger.valueOf(10_000_000));
    }

    @Test
    void twentyConcurrentPaymentsGiveTwentyDepositsWithoutANonceError() throws Exception {
        int payments = 20;
        NewAgent agent = newAgent("busy");
        mint(agent.agent().walletAddress(), "500.00");
        List<McpSyncClient> clients = List.of(client(agent.apiKey()), client(agent.apiKey()), client(agent.apiKey()),
                client(agent.apiKey()));
        List<String> reservationIds = new ArrayList<>();
        for (int i = 0; i < payments; i++) {
            reservationIds.add((String) reserve(clients.get(i % clients.size()), "L40S", 10, "reserve-busy-" + i)
                    .get("reservationId"));
        }
        BigInteger escrowBefore = escrowBalance();

        CountDownLatch start = new CountDownLatch(1);
        List<Future<CallToolResult>> calls = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(payments)) {
            for (int i = 0; i < payments; i++) {
                int index = i;
                calls.add(pool.submit(() -> {
                    start.await();
                    return call(clients.get(index % clients.size()), "pay",
                            Map.of("reservationId", reservationIds.get(index), "idempotencyKey", "pay-busy-" + index));
                }));
            }
            start.countDown();
        }
        for (Future<CallToolResult> call : calls) {
            CallToolResult result = call.get();
            assertThat(result.isError()).as(String.valueOf(result.content())).isFalse();
        }

        // Each deposit is 0.90 × 10 / 60 = 0.15 USDC.
        assertThat(escrowBalance().subtract(escrowBefore)).isEqualTo(BigInteger.valueOf(payments * 150_000L));
        assertThat(count("chain_transactions", "purpose = 'deposit' AND status = 'CONFIRMED'", Map.of()))
                .isGreaterThanOrEqualTo(payments);
        assertThat(count("chain_transactions", "status = 'REJECTED'", Map.of())).isZero();
        List<Long> nonces = db.sql("SELECT nonce FROM chain_transactions ORDER BY nonce")
                .map(row -> row.get("nonce", Number.class).longValue()).all().collectList().block();
        assertThat(new HashSet<>(nonces)).hasSameSizeAs(nonces);
        assertThat(nonces.getLast() - nonces.getFirst() + 1).as("no gap between nonces").isEqualTo(nonces.size());
        assertThat(ledgerImbalance()).isZero();
    }
}
