package dev.gpubroker.payments.relayer;

import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;
import org.springframework.transaction.reactive.TransactionalOperator;
import org.web3j.crypto.Hash;
import org.web3j.crypto.RawTransaction;
import org.web3j.crypto.TransactionEncoder;
import org.web3j.utils.Numeric;

import dev.gpubroker.metrics.RelayerMetrics;
import dev.gpubroker.payments.chain.ChainContext;
import dev.gpubroker.payments.chain.ChainRpcException;
import dev.gpubroker.payments.chain.PaymentChain;
import dev.gpubroker.platform.faults.Faults;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.util.concurrent.Queues;

/**
 * The one account that submits every transaction, so agents need no ETH. Within one instance, submissions go through
 * one lane (a bounded queue) that works as a pipeline: many submissions have their gas estimated at once (node round
 * trips that need no nonce; the fees are read once for all of them), then those that waited take their nonces
 * together in the order they came, signed and written to the database in one transaction ({@link RelayerNonces}:
 * across instances sharing the database, each allocation locks the nonce counter row), and only then are they
 * broadcast, in nonce order, while the next ones are being priced. So many transactions are in flight per block, and
 * none waits for another's receipt. A node that refuses frees the nonce for the next submission of any instance (no
 * gap); a node that does not answer leaves the transaction signed, and the {@link TransactionTracker} of any instance
 * broadcasts the very same bytes again (same hash: it cannot pay twice).
 */
@Component
public class Relayer implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(Relayer.class);
    private static final int QUEUE_SIZE_MAX = 1024;
    /**
     * Submissions whose gas is being estimated at once. Estimating is the longest step (the node runs the call) and
     * needs no nonce; 32 covers a block's worth of deposits at the target rate without flooding the node.
     */
    private static final int ESTIMATES_IN_FLIGHT_MAX = 32;
    /**
     * Submissions that take their nonces in one database transaction. A database commit is the largest cost of a
     * submission the relayer controls; under load, the submissions priced while the last batch was stored go together.
     */
    private static final int ALLOCATION_BATCH_MAX = 32;
    /**
     * How long one reading of the fees and the pending nonce serves every submission: about a block on the chains this
     * runs on, and the maximum fee (twice the gas price) covers several blocks of rising base fee.
     */
    static final Duration FEES_MAX_AGE = Duration.ofMillis(500);
    private static final BigInteger GAS_HEADROOM_PERCENT = BigInteger.valueOf(125);
    /**
     * Added to every estimate: it is made against the pending state, and by the time the transaction runs other ones
     * (a settlement or refund that empties the escrow) may have set storage it writes back to zero, and writing a zero
     * slot costs 19,200 gas more. A deposit writes two such slots (the escrow's USDC balance and its totalOpen), so a
     * deposit estimated while the escrow held money ran out of gas once the escrow had emptied (CancelRacesOnPostgresTest
     * caught it). Unused gas is not paid for.
     */
    private static final BigInteger GAS_HEADROOM_FRESH_SLOTS = BigInteger.valueOf(2 * 19_200 + 5_000);
    private static final BigInteger HUNDRED = BigInteger.valueOf(100);
    /** Free nonces are taken by the next submission of any instance; this long without one, the tracker fills them. */
    static final Duration GAP_FILL_AFTER = Duration.ofSeconds(2);
    static final String GAP_FILL_PURPOSE = "nonce-fill";
    private static final int GAP_FILLS_PER_PASS_MAX = 16;
    private static final BigInteger NO_OP_GAS = BigInteger.valueOf(21_000);

    private final ChainContext chain;
    private final ChainTransactionRepository transactions;
    private final RelayerNonces nonces;
    private final Clock clock;
    private final Object laneLock = new Object();
    /** Submissions accepted into the lane and not yet taken up (about {@link #QUEUE_SIZE_MAX} at most): its depth. */
    private final AtomicInteger waiting = new AtomicInteger();
    /** Priced submissions waiting for their nonces, and whether a batch is being allocated and sent. */
    private final Queue<Priced> pricedWaiting = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean allocating = new AtomicBoolean();
    /** The newest reading of the fees, shared for {@link #FEES_MAX_AGE}; a failed one is read again. */
    private final AtomicReference<SharedFees> fees = new AtomicReference<>();
    private Sinks.Many<Submission> lane;
    private volatile Disposable worker;

    @Autowired
    public Relayer(PaymentChain paymentChain, ChainTransactionRepository transactions, TransactionalOperator transaction,
            Clock clock, RelayerMetrics metrics) {
        this(paymentChain.context(), transactions, transaction, clock, metrics);
    }

    /** Another instance of the relayer on the same account and database (as a second server would have). */
    Relayer(ChainContext chain, ChainTransactionRepository transactions, TransactionalOperator transaction, Clock clock) {
        this(chain, transactions, transaction, clock, RelayerMetrics.unread());
    }

    private Relayer(ChainContext chain, ChainTransactionRepository transactions, TransactionalOperator transaction,
            Clock clock, RelayerMetrics metrics) {
        this.chain = chain;
        this.transactions = transactions;
        this.nonces = new RelayerNonces(transactions, transaction, clock);
        this.clock = clock;
        metrics.watchQueueDepth(waiting::get);
    }

    /** {@link #relay}, answering only the transaction. */
    public Mono<ChainTransaction> submit(String purpose, String referenceId, String to, String callData) {
        return relay(purpose, referenceId, to, callData).map(Relayed::transaction);
    }

    /**
     * Queues a contract call for submission, at most one live transaction per purpose and reference across every
     * instance ({@link RelayerNonces}). Answers the persisted transaction once the node has it (or once it is signed
     * and stored, when the node did not answer), or the live one of the same purpose and reference that was signed
     * first; fails with {@link RelayerRefusedException} when it was not sent and nothing moved.
     */
    public Mono<Relayed> relay(String purpose, String referenceId, String to, String callData) {
        return Mono.defer(() -> {
            Sinks.One<Relayed> result = Sinks.one();
            Sinks.EmitResult emitted;
            synchronized (laneLock) {
                // Counted before it is in the lane: the worker may take it up (and count it out) before the emit returns.
                waiting.incrementAndGet();
                emitted = lane == null ? Sinks.EmitResult.FAIL_TERMINATED
                        : lane.tryEmitNext(new Submission(purpose, referenceId, to, callData, result));
                if (emitted.isFailure()) {
                    waiting.decrementAndGet();
                }
            }
            if (emitted == Sinks.EmitResult.FAIL_OVERFLOW) {
                return Mono.error(new RelayerRefusedException("the relayer queue is full (" + QUEUE_SIZE_MAX
                        + " waiting); retry in a few seconds"));
            }
            if (emitted.isFailure()) {
                return Mono.error(new RelayerRefusedException("the relayer is not running (the server is stopping); "
                        + "retry in a few seconds"));
            }
            return result.asMono();
        });
    }

    /**
     * The transaction of this purpose for this reference that is on its way or done (signed, broadcast, confirmed or
     * replaced), if any: what makes a settlement or a refund happen at most once per reservation.
     */
    public Mono<ChainTransaction> findLive(String referenceId, String purpose) {
        return transactions.findLive(referenceId, purpose);
    }

    public String address() {
        return chain.relayerAddress();
    }

    /**
     * The lane's stages, each working on other submissions at the same time. Only the nonce allocation (one database
     * transaction for all the submissions priced while the previous one ran, in arrival order) and the sending (in
     * nonce order, so the node sees no gap it would have to hold later transactions for) are one batch at a time; the
     * broadcasts a batch's node took are marked in one statement. A stage's failure is that submission's (or batch's)
     * answer and the lane goes on.
     */
    private Flux<Void> pipeline(Flux<Submission> submissions) {
        return submissions
                .flatMapSequential(submission -> {
                    waiting.decrementAndGet();
                    return answering(submission, price(submission.to(), submission.callData())
                            .map(priced -> new Priced(submission, priced)));
                }, ESTIMATES_IN_FLIGHT_MAX, 1)
                .doOnNext(priced -> {
                    pricedWaiting.add(priced);
                    allocateWaiting();
                })
                .thenMany(Flux.empty());
    }

    /**
     * Allocates, signs, stores and sends every priced submission waiting, one batch at a time (a group commit: under
     * load the submissions priced while one batch was stored go together in the next; alone, one goes at once), then
     * goes on while any are left. The next batch is allocated only once this one is sent, so the node gets every nonce
     * in order; recording the broadcasts and answering the callers goes on beside the next batch.
     */
    private void allocateWaiting() {
        if (!allocating.compareAndSet(false, true)) {
            return;
        }
        List<Priced> batch = new ArrayList<>();
        for (Priced next = pricedWaiting.poll(); next != null; next = batch.size() < ALLOCATION_BATCH_MAX
                ? pricedWaiting.poll() : null) {
            batch.add(next);
        }
        if (batch.isEmpty()) {
            allocating.set(false);
            // Added after the poll and before the flag came down: that caller found the flag up and left it to us.
            if (!pricedWaiting.isEmpty()) {
                allocateWaiting();
            }
            return;
        }
        answeringAll(batch, Mono.defer(() -> storeAll(batch))
                        .flatMap(stored -> Flux.fromIterable(stored)
                                .filter(Relayer::signedNow)
                                .concatMap(one -> sendFirst(one.transaction()).map(answer -> new Sent(one, answer)))
                                .collectList()))
                .doOnNext(sent -> answerAll(sent).subscribe())
                .doFinally(signal -> {
                    allocating.set(false);
                    allocateWaiting();
                })
                .subscribe();
    }

    /** The step's value, or its error told to the submission's caller and nothing passed on to the next stage. */
    private static <T> Mono<T> answering(Submission submission, Mono<T> step) {
        return step.onErrorResume(error -> {
            submission.result().tryEmitError(error);
            return Mono.empty();
        });
    }

    /** {@link #answering} for a batch: its error is every submission's answer. */
    private static <T> Mono<T> answeringAll(List<Priced> batch, Mono<T> step) {
        return step.onErrorResume(error -> {
            batch.forEach(priced -> priced.submission().result().tryEmitError(error));
            return Mono.empty();
        });
    }

    /**
     * Answers a sent batch: the broadcasts the node took are marked in one statement, then their callers answered;
     * one the node did not answer is answered at once (it stays SIGNED and the tracker sends it again); a refusal goes
     * its own way ({@link #answer}). A mark that fails is bookkeeping only: the node has the transactions, stored and
     * followed as SIGNED (the tracker sends the same bytes again, "already known"), so their callers get them all the
     * same, never an error that would read as "not sent".
     */
    private Mono<Void> answerAll(List<Sent> batch) {
        List<Sent> taken = batch.stream().filter(sent -> sent.answer() == NodeAnswer.TAKEN).toList();
        List<Sent> others = batch.stream().filter(sent -> sent.answer() != NodeAnswer.TAKEN).toList();
        Mono<Void> marked = Mono.defer(() -> transactions.markBroadcast(taken.stream()
                        .map(sent -> sent.stored().transaction().hash()).toList(), clock.instant()))
                .onErrorResume(error -> {
                    log.warn("Marking {} relayer transactions broadcast failed; they stay SIGNED and the tracker sends "
                            + "them again: {}", taken.size(), error.toString());
                    return Mono.empty();
                })
                .then(Mono.fromRunnable(() -> taken.forEach(sent -> sent.stored().priced().submission().result()
                        .tryEmitValue(new Relayed.Submitted(sent.stored().transaction())))));
        return marked.then(Flux.fromIterable(others)
                .concatMap(sent -> answering(sent.stored().priced().submission(), answer(sent, true)))
                .then());
    }

    /** Records the first broadcast's outcome and answers the submission's caller: the transaction, or the refusal. */
    private Mono<Void> answer(Sent sent, boolean retryOnUsedNonce) {
        ChainTransaction signed = sent.stored().transaction();
        Submission submission = sent.stored().priced().submission();
        return recordFirst(signed, sent.answer()).flatMap(outcome -> switch (outcome) {
            case FirstBroadcast.Sent done -> Mono.fromRunnable(() -> submission.result()
                    .tryEmitValue(new Relayed.Submitted(done.transaction())));
            case FirstBroadcast.NonceUsed used when retryOnUsedNonce -> {
                log.warn("Relayer nonce {} was already used on chain; taking the next one", signed.nonce());
                // Out of the lane's order, rarely: the account was used elsewhere. Its gas and fees are still good.
                yield store(submission, sent.stored().priced().fees())
                        .flatMap(again -> switch (again) {
                            case Relayed.AlreadyLive live -> Mono.fromRunnable(() -> submission.result().tryEmitValue(live));
                            case Relayed.Submitted signedAgain -> sendFirst(signedAgain.transaction())
                                    .map(answer -> new Sent(new Stored(sent.stored().priced(), signedAgain), answer))
                                    .flatMap(resent -> answer(resent, false));
                        });
            }
            case FirstBroadcast.NonceUsed used -> Mono.error(new RelayerRefusedException(used.message()));
            case FirstBroadcast.Refused refused -> Mono.error(new RelayerRefusedException(refused.message()));
        });
    }

    /**
     * Signs a call at the next nonce and stores it, committed, without broadcasting it: the first half of a
     * submission, and the state a crash between the commit and the broadcast leaves behind.
     */
    Mono<ChainTransaction> signAndStore(String purpose, String referenceId, String to, String callData) {
        Submission submission = new Submission(purpose, referenceId, to, callData, Sinks.one());
        return price(to, callData).flatMap(fees -> store(submission, fees)).map(Relayed::transaction);
    }

    /**
     * The gas limit (the node's estimate with headroom), the fees and the chain's pending nonce of a call: what its
     * transaction needs besides its nonce. An estimate that reverts is a refusal, before any nonce is taken. The fees
     * and the pending nonce are one reading shared by every submission priced within {@link #FEES_MAX_AGE}.
     */
    private Mono<Fees> price(String to, String callData) {
        String from = chain.relayerAddress();
        return chain.client().estimateGas(from, to, callData)
                .onErrorMap(ChainRpcException.class, error -> new RelayerRefusedException(error.getMessage()))
                .zipWith(currentFees(), (gasEstimate, reading) -> new Fees(gasEstimate.multiply(GAS_HEADROOM_PERCENT)
                        .divide(HUNDRED).add(GAS_HEADROOM_FRESH_SLOTS),
                        reading.gasPrice().multiply(BigInteger.TWO).add(reading.priority()), reading.priority(),
                        reading.pendingNonce()));
    }

    /**
     * The node's gas price, priority fee and the relayer's pending nonce, read at once. A pending nonce a moment old is
     * as good as a new one: it only ever raises the database's counter (when the account was used elsewhere), and a
     * nonce taken meanwhile is refused by the node and the call sent again at the next one.
     */
    private Mono<FeeReading> readFees() {
        String from = chain.relayerAddress();
        return Mono.zip(chain.client().gasPrice(), chain.client().maxPriorityFeePerGas(), chain.client().pendingNonce(from))
                .map(read -> new FeeReading(read.getT1(), read.getT2(), read.getT3().longValueExact()));
    }

    /** The fee reading younger than {@link #FEES_MAX_AGE}, or a new one (one at a time, whoever asks meanwhile waits). */
    private Mono<FeeReading> currentFees() {
        return Mono.defer(() -> {
            long now = System.nanoTime();
            SharedFees current = fees.get();
            if (current == null || now - current.readAtNanos() > FEES_MAX_AGE.toNanos()
                    || current.reading().isCompletedExceptionally()) {
                SharedFees fresh = new SharedFees(now, new CompletableFuture<>());
                if (fees.compareAndSet(current, fresh)) {
                    readFees().subscribe(fresh.reading()::complete, fresh.reading()::completeExceptionally,
                            () -> fresh.reading().completeExceptionally(new IllegalStateException("no fees read")));
                }
                current = fees.get();
            }
            // Not cancelled with one asker's wait: the others share it.
            return Mono.fromFuture(current.reading(), true);
        });
    }

    private record SharedFees(long readAtNanos, CompletableFuture<FeeReading> reading) {
    }

    private Mono<Relayed> store(Submission submission, Fees fees) {
        return nonces.signAtNextNonce(chain.relayerAddress(), fees.chainPendingNonce(), signer(submission, fees));
    }

    /** A batch's nonces, in arrival order, in one database transaction. */
    private Mono<List<Stored>> storeAll(List<Priced> batch) {
        long chainPendingNonce = batch.stream().mapToLong(priced -> priced.fees().chainPendingNonce()).max().orElseThrow();
        List<RelayerNonces.Signing> signers = batch.stream()
                .map(priced -> signer(priced.submission(), priced.fees())).toList();
        return nonces.signAtNextNonces(chain.relayerAddress(), chainPendingNonce, signers)
                .map(stored -> IntStream.range(0, batch.size())
                        .mapToObj(index -> new Stored(batch.get(index), stored.get(index))).toList());
    }

    private RelayerNonces.Signing signer(Submission submission, Fees fees) {
        return new RelayerNonces.Signing(submission.purpose(), submission.referenceId(), nonce -> sign(
                submission.purpose(), submission.referenceId(), submission.to(), submission.callData(), nonce,
                fees.gasLimit(), fees.maxFee(), fees.priority(), null));
    }

    /**
     * Whether a stored submission was signed by this batch and is to be sent; one answered a live transaction of the
     * same purpose and reference is answered now, and nothing is sent for it.
     */
    private static boolean signedNow(Stored stored) {
        if (stored.relayed() instanceof Relayed.AlreadyLive live) {
            log.info("A {} transaction for {} is already live ({}); nothing new signed", live.transaction().purpose(),
                    live.transaction().referenceId(), live.transaction().hash());
            stored.priced().submission().result().tryEmitValue(live);
            return false;
        }
        return true;
    }

    /**
     * The first broadcast of a transaction this instance just signed and stored. A refusal is recorded (and the nonce
     * freed when the refusal says it is) before this answers; no answer at all is not a refusal.
     */
    Mono<FirstBroadcast> broadcastFirst(ChainTransaction signed) {
        return sendFirst(signed).flatMap(answer -> recordFirst(signed, answer));
    }

    /** Sends a just-stored transaction: the node's answer, with nothing written yet. */
    private Mono<NodeAnswer> sendFirst(ChainTransaction signed) {
        return chain.client().sendRawTransaction(signed.signedRaw())
                .map(hash -> NodeAnswer.TAKEN)
                .onErrorResume(ChainRpcException.class, refusal -> Mono.just(new NodeAnswer(true, refusal)))
                // No answer is not a refusal: the node may have the transaction. It stays SIGNED; the tracker of any
                // instance broadcasts the same bytes again.
                .onErrorResume(error -> !(error instanceof ChainRpcException), error -> {
                    log.warn("No answer while broadcasting {}; the tracker will retry the same transaction: {}",
                            signed.hash(), error.toString());
                    return Mono.just(NodeAnswer.NONE);
                });
    }

    /** Writes what the node's answer to a first broadcast means: broadcast, or refused and its nonce free again. */
    private Mono<FirstBroadcast> recordFirst(ChainTransaction signed, NodeAnswer answer) {
        if (!answer.answered()) {
            return Mono.just(new FirstBroadcast.Sent(signed));
        }
        if (answer.refusal() == null) {
            return Mono.defer(() -> transactions.markBroadcast(signed.hash(), clock.instant()))
                    .thenReturn(new FirstBroadcast.Sent(signed));
        }
        ChainRpcException refusal = answer.refusal();
        return switch (Faults.classify(refusal)) {
            case ALREADY_KNOWN -> transactions.markBroadcast(signed.hash(), clock.instant())
                    .thenReturn(new FirstBroadcast.Sent(signed));
            case NONCE_USED -> nonceUsed(signed, refusal.getMessage());
            // Any other answer: the node did not take it, so it is never mined and its nonce is free again.
            case INSUFFICIENT_FUNDS, REVERTED, REFUSED, UNAVAILABLE, TIMEOUT, UNREACHABLE, UNEXPECTED ->
                    nonces.release(signed, refusal.getMessage()).<FirstBroadcast>map(released -> {
                        if (!released) {
                            // Another instance's tracker sent these bytes first and the node took them: in flight.
                            return new FirstBroadcast.Sent(signed);
                        }
                        log.warn("Node refused relayer transaction {} ({}, nonce {}): {}", signed.hash(), signed.purpose(),
                                signed.nonce(), refusal.getMessage());
                        return new FirstBroadcast.Refused(refusal.getMessage());
                    });
        };
    }

    /**
     * The nonce is taken on chain. By these very bytes, when another instance's tracker sent them before this first
     * broadcast came through (a slow broadcast): then they are ours, mined, and nothing may be sent again. Otherwise by
     * a transaction this database does not know (the account used elsewhere): this one is rejected, the nonce is not
     * free, and the call may go out at another nonce, since it was never executed.
     */
    private Mono<FirstBroadcast> nonceUsed(ChainTransaction signed, String message) {
        return chain.client().receipt(signed.hash()).flatMap(receipt -> receipt.isPresent()
                ? transactions.markBroadcast(signed.hash(), clock.instant()).<FirstBroadcast>thenReturn(new FirstBroadcast.Sent(signed))
                : transactions.reject(signed.hash(), message, clock.instant())
                        .<FirstBroadcast>map(rejected -> rejected ? new FirstBroadcast.NonceUsed(message)
                                : new FirstBroadcast.Sent(signed)));
    }

    /**
     * Fills free nonces that no submission took within {@link #GAP_FILL_AFTER} with a no-op (0 ETH to the relayer
     * itself, 21,000 gas), so that the transactions above them are mined. Called by the tracker on every pass.
     */
    Mono<Void> fillGaps() {
        String from = chain.relayerAddress();
        return nonces.freedBefore(from, clock.instant().minus(GAP_FILL_AFTER), GAP_FILLS_PER_PASS_MAX)
                .concatMap(nonce -> Mono.zip(chain.client().gasPrice(), chain.client().maxPriorityFeePerGas())
                        .flatMap(fees -> nonces.signAtFreeNonce(from, nonce, free -> sign(GAP_FILL_PURPOSE,
                                "nonce-" + free, from, "0x", free, NO_OP_GAS,
                                fees.getT1().multiply(BigInteger.TWO).add(fees.getT2()), fees.getT2(), null)))
                        .flatMap(filler -> broadcastFirst(filler).doOnNext(answer -> {
                            switch (answer) {
                                case FirstBroadcast.Sent sent -> log.warn("Nonce {} was refused below a higher one and "
                                        + "nobody took it; filled with a no-op: {}", nonce, filler.hash());
                                case FirstBroadcast.NonceUsed used -> log.info("Nonce {} turned out to be used on chain "
                                        + "already: no gap to fill", nonce);
                                case FirstBroadcast.Refused refused -> log.warn("The no-op for nonce {} was refused too; "
                                        + "retrying on a later pass: {}", nonce, refused.message());
                            }
                        })))
                .then();
    }

    /** Signs a call at a given nonce and fees; used for new transactions and for fee-bumped replacements. */
    ChainTransaction sign(String purpose, String referenceId, String to, String callData, long nonce, BigInteger gasLimit,
            BigInteger maxFee, BigInteger priority, String replacesHash) {
        RawTransaction raw = RawTransaction.createTransaction(chain.chainId(), BigInteger.valueOf(nonce), gasLimit, to,
                BigInteger.ZERO, callData, priority, maxFee);
        String signedRaw = Numeric.toHexString(TransactionEncoder.signMessage(raw, chain.relayer()));
        return new ChainTransaction(Hash.sha3(signedRaw), chain.relayerAddress(), nonce, purpose, referenceId, to,
                callData, gasLimit.longValueExact(), maxFee, priority, signedRaw, ChainTransaction.Status.SIGNED,
                replacesHash, null, clock.instant());
    }

    @Override
    public void start() {
        synchronized (laneLock) {
            lane = Sinks.many().unicast().onBackpressureBuffer(Queues.<Submission>get(QUEUE_SIZE_MAX).get());
            worker = pipeline(lane.asFlux()).subscribe();
        }
    }

    /** Takes no new submissions; those already queued are still signed and sent. */
    @Override
    public void stop() {
        synchronized (laneLock) {
            if (lane != null) {
                lane.tryEmitComplete();
            }
            lane = null;
            worker = null;
        }
    }

    @Override
    public boolean isRunning() {
        return worker != null && !worker.isDisposed();
    }

    /** What became of a transaction's first broadcast. */
    sealed interface FirstBroadcast {
        /** Sent, known to the node already, mined, or no answer (then it stays SIGNED and the tracker sends it). */
        record Sent(ChainTransaction transaction) implements FirstBroadcast {
        }

        /** Another transaction holds its nonce; this one is REJECTED and the nonce is not free. */
        record NonceUsed(String message) implements FirstBroadcast {
        }

        /** The node refused it; it is REJECTED and its nonce free again. */
        record Refused(String message) implements FirstBroadcast {
        }
    }

    private record Submission(String purpose, String referenceId, String to, String callData,
            Sinks.One<Relayed> result) {
    }

    private record FeeReading(BigInteger gasPrice, BigInteger priority, long pendingNonce) {
    }

    /** What a call's transaction needs besides its nonce. */
    private record Fees(BigInteger gasLimit, BigInteger maxFee, BigInteger priority, long chainPendingNonce) {
    }

    private record Priced(Submission submission, Fees fees) {
    }

    private record Stored(Priced priced, Relayed relayed) {
        ChainTransaction transaction() {
            return relayed.transaction();
        }
    }

    private record Sent(Stored stored, NodeAnswer answer) {
    }

    /** The node's answer to a broadcast: taken (no refusal), refused (its error), or none at all (not answered). */
    private record NodeAnswer(boolean answered, ChainRpcException refusal) {
        static final NodeAnswer TAKEN = new NodeAnswer(true, null);
        static final NodeAnswer NONE = new NodeAnswer(false, null);
    }

}
