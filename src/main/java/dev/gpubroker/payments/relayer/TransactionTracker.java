package dev.gpubroker.payments.relayer;

import dev.gpubroker.lifecycle.PeriodicSweep;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Collectors;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.stereotype.Component;
import org.web3j.protocol.core.methods.response.TransactionReceipt;

import dev.gpubroker.config.BrokerProperties;
import dev.gpubroker.metrics.RelayerMetrics;
import dev.gpubroker.payments.chain.ChainContext;
import dev.gpubroker.payments.chain.ChainHead;
import dev.gpubroker.payments.chain.ChainRpcException;
import dev.gpubroker.payments.chain.PaymentChain;
import dev.gpubroker.payments.relayer.ChainTransaction.Status;
import dev.gpubroker.platform.faults.Fault;
import dev.gpubroker.platform.faults.Faults;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Follows every open relayer transaction until it is final, from the database, so a restart picks up where it
 * stood. A receipt's status is always checked (a revert is a failure with its reason); a transaction counts once it
 * has the configured confirmations; one that stays unmined past the receipt timeout is replaced at the same nonce
 * with fees raised, never resent as a new transaction; whichever of the two is mined wins.
 *
 * <p>Every instance sharing the database runs one, and the one holding the tracker's lease ({@link PeriodicSweep})
 * passes over every open transaction whichever instance signed it: that is how a dead instance's signed transactions
 * are sent and followed. Doing it twice (a stalled holder's pass as another instance takes over) is harmless: a
 * rebroadcast sends the same bytes (same hash), one replacement per transaction is allowed by the database, and the
 * outcome of a mined transaction is recorded by one instance only (see {@link #onMined}). The pass also fills free
 * nonces nobody took ({@link Relayer#fillGaps}).
 *
 * <p>A pass reads each new block's receipts in one call ({@link MinedReceipts}) rather than asking for every open
 * transaction's receipt, and follows the open transactions several at a time: at a 1-second block time a block holds
 * dozens of the relayer's transactions, and their outcomes one after another took longer than the next block.
 */
@Component
public class TransactionTracker extends PeriodicSweep {

    private static final Logger log = LoggerFactory.getLogger(TransactionTracker.class);
    private static final Duration POLL_INTERVAL = Duration.ofMillis(250);
    private static final Duration REBROADCAST_AFTER = Duration.ofSeconds(5);
    private static final int BATCH_SIZE_MAX = 200;
    /**
     * Open transactions followed at once. Recording an outcome is a few database transactions (the claim, the
     * listener's, the close); one after another they held a block of 50 deposits for seconds. Half the connection
     * pool (16) at most, so that agents' calls still get connections while a full block is recorded.
     */
    private static final int FOLLOWS_IN_FLIGHT_MAX = 8;
    /**
     * A transaction the block reading has not seen this long after it was signed is asked for by its own receipt, as
     * every transaction was before blocks were read whole: mined in a block read before this instance took the tracker
     * over, or not mined yet on a slow chain. Longer than a block on the chains the broker runs on (1 to 2 s).
     */
    private static final Duration ASK_EACH_AFTER = Duration.ofSeconds(3);
    private static final BigInteger HUNDRED = BigInteger.valueOf(100);
    /** How long the instance that claimed a mined transaction has to record its outcome before another may. */
    private static final Duration OUTCOME_LEASE = Duration.ofSeconds(30);
    private static final Duration LISTENER_TIME_MAX = Duration.ofSeconds(20);

    private final ChainContext chain;
    private final ChainHead chainHead;
    private final ChainTransactionRepository transactions;
    private final Relayer relayer;
    private final Map<String, TransactionOutcomeListener> listeners;
    private final Clock clock;
    private final Duration receiptTimeout;
    private final int feeBumpPercent;
    private final RelayerMetrics metrics;
    private final MinedReceipts mined;

    @Autowired
    public TransactionTracker(PaymentChain paymentChain, ChainTransactionRepository transactions, Relayer relayer,
            List<TransactionOutcomeListener> listeners, Clock clock, BrokerProperties properties, ChainHead chainHead,
            RelayerMetrics metrics) {
        this(paymentChain.context(), transactions, relayer, listeners, clock, properties.chain().receiptTimeout(),
                properties.chain().feeBumpPercent(), chainHead, metrics);
    }

    /** The tracker of another instance on the same account and database (as a second server would have). */
    TransactionTracker(ChainContext chain, ChainTransactionRepository transactions, Relayer relayer,
            List<TransactionOutcomeListener> listeners, Clock clock, Duration receiptTimeout, int feeBumpPercent,
            ChainHead chainHead) {
        this(chain, transactions, relayer, listeners, clock, receiptTimeout, feeBumpPercent, chainHead,
                RelayerMetrics.unread());
    }

    private TransactionTracker(ChainContext chain, ChainTransactionRepository transactions, Relayer relayer,
            List<TransactionOutcomeListener> listeners, Clock clock, Duration receiptTimeout, int feeBumpPercent,
            ChainHead chainHead, RelayerMetrics metrics) {
        super("Transaction tracking", POLL_INTERVAL);
        this.metrics = metrics;
        this.chainHead = chainHead;
        this.chain = chain;
        this.transactions = transactions;
        this.relayer = relayer;
        // Two listeners for one purpose would record one outcome twice: toUnmodifiableMap refuses the duplicate key.
        this.listeners = listeners.stream()
                .flatMap(listener -> listener.purposes().stream().map(purpose -> Map.entry(purpose, listener)))
                .collect(Collectors.toUnmodifiableMap(Map.Entry::getKey, Map.Entry::getValue));
        this.clock = clock;
        this.receiptTimeout = receiptTimeout;
        this.feeBumpPercent = Math.max(10, feeBumpPercent);
        this.mined = new MinedReceipts(chain.client(), chain.relayerAddress());
    }

    @Override
    public Mono<Void> sweep() {
        // Every pass reads the head anyway: it is reported, so that nobody else need ask the node which block is current.
        return chain.client().blockNumber().doOnNext(chainHead::observed)
                .flatMap(head -> mined.catchUp(head).flatMap(blocksRead -> {
                    Queue<ChainTransaction> unsent = new ConcurrentLinkedQueue<>();
                    return transactions.findOpen(BATCH_SIZE_MAX)
                            .flatMap(transaction -> follow(transaction, head, blocksRead, unsent)
                                    .onErrorResume(error -> {
                                        log.warn("Tracking {} failed, retrying on the next pass: {}", transaction.hash(),
                                                error.toString());
                                        return Mono.empty();
                                    }), FOLLOWS_IN_FLIGHT_MAX)
                            .then(Mono.defer(() -> sendAgain(unsent)));
                }))
                // After the open transactions: a free nonce nobody took holds up every transaction above it.
                .then(Mono.defer(relayer::fillGaps));
    }

    /**
     * Signed and stored but maybe never sent (a crash, no answer): the same bytes again, same hash, lowest nonce first
     * and one at a time, after the pass has followed the rest. Sent as they were found (eight at a time, in any order)
     * they reached the node out of nonce order, and anvil on automine can then leave a transaction that became ready
     * unmined until the next one arrives (foundry-rs/foundry#10122); real nodes also hold only so many transactions
     * above a gap per account. Whoever signed it (this instance, or one that died after signing): any tracker may send it.
     */
    private Mono<Void> sendAgain(Queue<ChainTransaction> unsent) {
        return Flux.fromIterable(unsent)
                .sort(Comparator.comparingLong(ChainTransaction::nonce))
                .concatMap(transaction -> chain.client().sendRawTransaction(transaction.signedRaw())
                        .onErrorResume(error -> error instanceof ChainRpcException
                                        && Faults.classify(error) == Fault.ALREADY_KNOWN,
                                known -> Mono.just(transaction.hash()))
                        .flatMap(hash -> transactions.markBroadcast(transaction.hash(), clock.instant()))
                        .doOnNext(sent -> log.info("Re-broadcast signed transaction {} (nonce {})", transaction.hash(),
                                transaction.nonce()))
                        .then()
                        .onErrorResume(error -> {
                            log.warn("Sending {} again failed, retrying on the next pass: {}", transaction.hash(),
                                    error.toString());
                            return Mono.empty();
                        }))
                .then();
    }

    /** @param blocksRead whether every block up to {@code head} was read whole, so that a receipt not seen is not there */
    private Mono<Void> follow(ChainTransaction transaction, BigInteger head, boolean blocksRead,
            Queue<ChainTransaction> unsent) {
        Optional<TransactionReceipt> seen = mined.find(transaction.hash());
        if (seen.isPresent()) {
            return onMined(transaction, seen.get(), head, true, unsent);
        }
        if (blocksRead && transaction.createdAt().plus(ASK_EACH_AFTER).isAfter(clock.instant())) {
            return onNotMined(transaction, unsent);
        }
        return chain.client().receipt(transaction.hash()).flatMap(receipt -> receipt.isPresent()
                ? onMined(transaction, receipt.get(), head, false, unsent)
                : onNotMined(transaction, unsent));
    }

    /**
     * Every instance's tracker follows every open transaction, so several may see one receipt. The outcome is recorded
     * by one of them: the one that wins the claim on the row (a conditional update). It runs the listener and only then
     * marks the transaction final, so a final status always means the outcome is recorded. A crash in between leaves
     * the row open with a lease that runs out; then another instance claims it and runs the (idempotent) listener again.
     */
    private Mono<Void> onMined(ChainTransaction transaction, TransactionReceipt receipt, BigInteger head,
            boolean fromBlockRead, Queue<ChainTransaction> unsent) {
        long confirmations = head.subtract(receipt.getBlockNumber()).longValueExact() + 1;
        if (confirmations < chain.confirmations()) {
            return Mono.empty();
        }
        if (fromBlockRead && chain.confirmations() > 1) {
            // More than one confirmation asked for means blocks may be replaced: the block this receipt was read from
            // may be gone. Its own receipt, asked for now, says where it is (if anywhere) before it counts.
            mined.forget(transaction.hash());
            return chain.client().receipt(transaction.hash()).flatMap(again -> again.isPresent()
                    ? onMined(transaction, again.get(), head, false, unsent)
                    : onNotMined(transaction, unsent));
        }
        Instant now = clock.instant();
        // Millisecond precision: the lease is compared back as stored, and databases keep microseconds at most.
        Instant leaseUntil = now.plus(OUTCOME_LEASE).truncatedTo(ChronoUnit.MILLIS);
        return transactions.claimOutcome(transaction.hash(), now, leaseUntil)
                .filter(claimed -> claimed)
                .flatMap(claimed -> recordOutcome(transaction, receipt)
                        .doOnSuccess(recorded -> mined.forget(transaction.hash()))
                        .onErrorResume(error -> transactions.releaseOutcome(transaction.hash(), leaseUntil)
                                .then(Mono.error(error))));
    }

    private Mono<Void> recordOutcome(ChainTransaction transaction, TransactionReceipt receipt) {
        TransactionOutcomeListener listener = listeners.get(transaction.purpose());
        Instant now = clock.instant();
        long block = receipt.getBlockNumber().longValueExact();
        long gasUsed = receipt.getGasUsed().longValueExact();
        Mono<Void> siblings = transactions.findByNonce(transaction.from(), transaction.nonce())
                .filter(other -> !other.hash().equals(transaction.hash()))
                .concatMap(other -> transactions.close(other.hash(), Status.REPLACED, null, null,
                        "transaction " + transaction.hash() + " at the same nonce was mined", now))
                .then();
        if (receipt.isStatusOK()) {
            Mono<Void> notify = listener == null ? Mono.empty() : listener.onConfirmed(transaction, receipt);
            // Within the lease: past it another instance may take the claim over, and two would run at once.
            return notify.timeout(LISTENER_TIME_MAX)
                    .then(transactions.close(transaction.hash(), Status.CONFIRMED, block, gasUsed, null, now))
                    .then(siblings)
                    .doOnSuccess(ignored -> metrics.mined(transaction.purpose(), "confirmed",
                            sinceBroadcast(transaction, clock.instant())))
                    .doOnSuccess(ignored -> log.info("Transaction {} ({} {}) confirmed in block {}, gas {}",
                            transaction.hash(), transaction.purpose(), transaction.referenceId(), block, gasUsed));
        }
        String reason = "reverted on chain in block " + block + (receipt.getRevertReason() == null ? ""
                : ": " + receipt.getRevertReason());
        Mono<Void> notify = listener == null ? Mono.empty() : listener.onFailed(transaction, reason);
        return notify.timeout(LISTENER_TIME_MAX)
                .then(transactions.close(transaction.hash(), Status.REVERTED, block, gasUsed, reason, now))
                .then(siblings)
                .doOnSuccess(ignored -> metrics.mined(transaction.purpose(), "reverted",
                        sinceBroadcast(transaction, clock.instant())))
                .doOnSuccess(ignored -> log.warn("Transaction {} ({} {}) {}", transaction.hash(), transaction.purpose(),
                        transaction.referenceId(), reason));
    }

    /**
     * From its broadcast (as recorded: the first, or the one that sent the bytes the tracker had to send again) until
     * {@code recordedAt}; from its signing when no broadcast was recorded (mined before the broadcast was marked).
     */
    private static Duration sinceBroadcast(ChainTransaction transaction, Instant recordedAt) {
        Instant from = transaction.broadcastAt() != null ? transaction.broadcastAt() : transaction.createdAt();
        return Duration.between(from, recordedAt);
    }

    /** @param unsent where a transaction that is due to be sent again goes, for {@link #sendAgain} at the pass's end */
    private Mono<Void> onNotMined(ChainTransaction transaction, Queue<ChainTransaction> unsent) {
        Instant now = clock.instant();
        if (transaction.status() == Status.SIGNED) {
            if (!transaction.createdAt().plus(REBROADCAST_AFTER).isAfter(now)) {
                unsent.add(transaction);
            }
            return Mono.empty();
        }
        if (transaction.broadcastAt() == null || transaction.broadcastAt().plus(receiptTimeout).isAfter(now)) {
            return Mono.empty();
        }
        return transactions.findByNonce(transaction.from(), transaction.nonce())
                .filter(other -> transaction.hash().equals(other.replacesHash()))
                .hasElements()
                .flatMap(alreadyReplaced -> alreadyReplaced ? Mono.empty() : replace(transaction));
    }

    /** Same nonce, same call, fees raised: the node keeps one of the two, and the tracker follows both. */
    private Mono<Void> replace(ChainTransaction stuck) {
        BigInteger bump = BigInteger.valueOf(100L + feeBumpPercent);
        return chain.client().gasPrice().flatMap(gasPrice -> {
            BigInteger priority = stuck.maxPriorityFeePerGas().multiply(bump).divide(HUNDRED).add(BigInteger.ONE);
            BigInteger maxFee = stuck.maxFeePerGas().multiply(bump).divide(HUNDRED).add(BigInteger.ONE)
                    .max(gasPrice.multiply(BigInteger.TWO).add(priority));
            ChainTransaction replacement = relayer.sign(stuck.purpose(), stuck.referenceId(), stuck.to(), stuck.callData(),
                    stuck.nonce(), BigInteger.valueOf(stuck.gasLimit()), maxFee, priority, stuck.hash());
            return transactions.insert(replacement)
                    .doOnSuccess(inserted -> log.warn("Transaction {} unmined after {}; replacing it at nonce {} with "
                            + "fees +{}%: {}", stuck.hash(), receiptTimeout, stuck.nonce(), feeBumpPercent, replacement.hash()))
                    .then(chain.client().sendRawTransaction(replacement.signedRaw()))
                    .flatMap(hash -> transactions.markBroadcast(replacement.hash(), clock.instant()))
                    .then()
                    // Another instance's tracker replaced it first (one replacement per transaction, a unique index).
                    .onErrorResume(DataIntegrityViolationException.class, raced -> Mono.empty());
        });
    }
}
