package dev.gpubroker.payments;

import java.math.BigInteger;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.springframework.stereotype.Service;
import org.web3j.abi.FunctionReturnDecoder;
import org.web3j.abi.datatypes.Event;
import org.web3j.abi.datatypes.Type;
import org.web3j.protocol.core.methods.response.EthLog;

import dev.gpubroker.ledger.Ledger;
import dev.gpubroker.payments.chain.ChainContext;
import dev.gpubroker.payments.chain.EscrowContract;
import dev.gpubroker.payments.chain.PaymentChain;
import dev.gpubroker.ledger.LedgerLine;
import dev.gpubroker.metrics.ReconciliationMetrics;
import reactor.core.publisher.Mono;

/**
 * Compares the ledger with the escrow's events on chain and reports every mismatch: an event the ledger lacks, a
 * chain-backed ledger entry with no event behind it, or one whose reservation or amount differs.
 */
@Service
public class Reconciliation {

    private static final int EVENTS_MAX = 100_000;

    public record Mismatch(String kind, String txHash, Integer logIndex, String detail) {
    }

    public record Report(String checkedAt, long toBlock, int escrowEvents, int ledgerEntries, List<Mismatch> mismatches) {

        public boolean clean() {
            return mismatches.isEmpty();
        }
    }

    private record ChainEvent(String name, String reservationKey, BigInteger amount) {
    }

    private final ChainContext chain;
    private final Ledger ledger;
    private final Clock clock;
    private final ReconciliationMetrics metrics;

    private final boolean escrowKeepsBooks;

    public Reconciliation(PaymentChain paymentChain, Ledger ledger, Clock clock, ReconciliationMetrics metrics) {
        this.chain = paymentChain.context();
        this.escrowKeepsBooks = paymentChain.escrowTakesTransfers();
        this.ledger = ledger;
        this.clock = clock;
        this.metrics = metrics;
    }

    @SuppressWarnings("rawtypes")
    public Mono<Report> run() {
        return chain.client().blockNumber().flatMap(head -> Mono.zip(
                        chain.client().logs(chain.escrowAddress(), BigInteger.ZERO, head),
                        ledger.chainBackedLines().collectList(),
                        unattributed())
                .map(parts -> withUnattributed(compare(head, parts.getT1(), parts.getT2()), parts.getT3())))
                // Whoever asked (the operator, the periodic run), the operator's gauge shows the newest finding.
                .doOnNext(report -> metrics.recorded(report.mismatches().size(), clock.instant()));
    }

    @SuppressWarnings("rawtypes")
    private Report compare(BigInteger head, List<EthLog.LogResult> logs, List<LedgerLine> lines) {
        if (logs.size() > EVENTS_MAX) {
            throw new IllegalStateException("more than " + EVENTS_MAX + " escrow events: reconcile in block ranges");
        }
        Map<String, ChainEvent> events = new HashMap<>();
        for (EthLog.LogResult result : logs) {
            EthLog.LogObject log = (EthLog.LogObject) result.get();
            ChainEvent event = decode(log);
            if (event != null) {
                events.put(key(log.getTransactionHash(), log.getLogIndex().intValueExact()), event);
            }
        }
        Map<String, List<LedgerLine>> entries = new HashMap<>();
        for (LedgerLine line : lines) {
            entries.computeIfAbsent(key(line.txHash(), line.logIndex()), ignored -> new ArrayList<>()).add(line);
        }
        List<Mismatch> mismatches = new ArrayList<>();
        for (var event : events.entrySet()) {
            String[] at = event.getKey().split("#");
            List<LedgerLine> entry = entries.get(event.getKey());
            if (entry == null) {
                mismatches.add(new Mismatch("on_chain_not_in_ledger", at[0], Integer.parseInt(at[1]),
                        event.getValue().name() + " of " + event.getValue().amount() + " atomic units for reservation key "
                                + event.getValue().reservationKey()));
                continue;
            }
            LedgerLine escrowLine = entry.stream().filter(line -> line.account().startsWith("escrow:")).findFirst().orElse(null);
            if (escrowLine == null || !EscrowContract.reservationKey(escrowLine.reservationId())
                    .equalsIgnoreCase(event.getValue().reservationKey())) {
                mismatches.add(new Mismatch("reservation_mismatch", at[0], Integer.parseInt(at[1]),
                        "the ledger entry names another reservation than the event"));
            } else if (escrowLine.amountMicros() != event.getValue().amount().longValueExact()) {
                mismatches.add(new Mismatch("amount_mismatch", at[0], Integer.parseInt(at[1]), "ledger "
                        + escrowLine.amountMicros() + ", chain " + event.getValue().amount() + " atomic units"));
            }
        }
        for (var entry : entries.entrySet()) {
            if (!events.containsKey(entry.getKey())) {
                String[] at = entry.getKey().split("#");
                mismatches.add(new Mismatch("in_ledger_not_on_chain", at[0], Integer.parseInt(at[1]),
                        "ledger entry " + entry.getValue().getFirst().entryId() + " has no escrow event behind it"));
            }
        }
        return new Report(clock.instant().toString(), head.longValueExact(), events.size(), entries.size(), mismatches);
    }

    /** Tokens in the escrow that no open deposit accounts for (GpuEscrow v2 keeps the books; an older one cannot). */
    private Mono<BigInteger> unattributed() {
        if (!escrowKeepsBooks) {
            return Mono.just(BigInteger.ZERO);
        }
        return chain.client().call(null, chain.escrowAddress(), EscrowContract.unattributedCall())
                .map(answer -> org.web3j.utils.Numeric.toBigInt(answer));
    }

    /**
     * Money in the escrow that belongs to no deposit is money the ledger cannot account for: a stock x402 transfer
     * someone submitted straight to the token that was never credited to a reservation, or tokens sent to the escrow
     * by hand. The operator is told how much; the payer's authorization and the token's events say whose it is.
     */
    private static Report withUnattributed(Report report, BigInteger unattributed) {
        if (unattributed.signum() == 0) {
            return report;
        }
        List<Mismatch> mismatches = new ArrayList<>(report.mismatches());
        mismatches.add(new Mismatch("unattributed_in_escrow", null, null, "the escrow holds " + unattributed
                + " atomic units of USDC that no deposit accounts for (a stock x402 transfer submitted straight to the "
                + "token and never credited, or tokens sent to the escrow directly): see the token's Transfer events to "
                + "the escrow without a Deposited of the escrow"));
        return new Report(report.checkedAt(), report.toBlock(), report.escrowEvents(), report.ledgerEntries(),
                List.copyOf(mismatches));
    }

    private static ChainEvent decode(EthLog.LogObject log) {
        if (log.getTopics().isEmpty()) {
            return null;
        }
        String topic = log.getTopics().getFirst();
        Event event;
        String name;
        if (topic.equals(EscrowContract.DEPOSITED_TOPIC)) {
            event = EscrowContract.DEPOSITED;
            name = "Deposited";
        } else if (topic.equals(EscrowContract.SETTLED_TOPIC)) {
            event = EscrowContract.SETTLED;
            name = "Settled";
        } else if (topic.equals(EscrowContract.REFUNDED_TOPIC)) {
            event = EscrowContract.REFUNDED;
            name = "Refunded";
        } else if (topic.equals(EscrowContract.RECLAIMED_TOPIC)) {
            event = EscrowContract.RECLAIMED;
            name = "Reclaimed";
        } else {
            return null;
        }
        @SuppressWarnings("rawtypes")
        List<Type> values = FunctionReturnDecoder.decode(log.getData(), event.getNonIndexedParameters());
        // Deposited(amount, deadline), Settled(paid, refunded), Refunded(refunded), Reclaimed(refunded): the money
        // that left or entered the escrow is the first value, plus the second for a settlement.
        BigInteger amount = (BigInteger) values.getFirst().getValue();
        if (name.equals("Settled")) {
            amount = amount.add((BigInteger) values.get(1).getValue());
        }
        return new ChainEvent(name, log.getTopics().get(1), amount);
    }

    private static String key(String txHash, int logIndex) {
        return txHash.toLowerCase(java.util.Locale.ROOT) + "#" + logIndex;
    }
}
