package dev.gpubroker.payments.relayer;

import java.math.BigInteger;
import java.time.Clock;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;
import org.web3j.crypto.Hash;
import org.web3j.crypto.RawTransaction;
import org.web3j.crypto.TransactionEncoder;
import org.web3j.utils.Numeric;

import dev.gpubroker.payments.chain.ChainContext;
import dev.gpubroker.payments.chain.ChainRpcException;
import dev.gpubroker.payments.chain.PaymentChain;
import dev.gpubroker.store.ChainTransactionRepository;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.util.concurrent.Queues;

/**
 * The one account that submits every transaction, so agents need no ETH. Submissions go through a single serialized
 * lane: each takes the next nonce from the persisted counter, is signed, written to the database, and only then
 * broadcast. A node that refuses gets the nonce back (no gap); a node that does not answer leaves the transaction
 * signed, and {@link TransactionTracker} broadcasts the very same bytes again (same hash: it cannot pay twice).
 */
@Component
public class Relayer implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(Relayer.class);
    private static final int QUEUE_SIZE_MAX = 1024;
    private static final BigInteger GAS_HEADROOM_PERCENT = BigInteger.valueOf(125);
    private static final BigInteger HUNDRED = BigInteger.valueOf(100);

    private final ChainContext chain;
    private final ChainTransactionRepository transactions;
    private final Clock clock;
    private final Object laneLock = new Object();
    private Sinks.Many<Submission> lane;
    private volatile Disposable worker;

    public Relayer(PaymentChain paymentChain, ChainTransactionRepository transactions, Clock clock) {
        this.chain = paymentChain.context();
        this.transactions = transactions;
        this.clock = clock;
    }

    /**
     * Queues a contract call for submission. Answers the persisted transaction once the node has it (or once it is
     * signed and stored, when the node did not answer); fails with {@link RelayerRefusedException} when it was not
     * sent and nothing moved.
     */
    public Mono<ChainTransaction> submit(String purpose, String referenceId, String to, String callData) {
        return Mono.defer(() -> {
            Sinks.One<ChainTransaction> result = Sinks.one();
            Sinks.EmitResult emitted;
            synchronized (laneLock) {
                emitted = lane == null ? Sinks.EmitResult.FAIL_TERMINATED
                        : lane.tryEmitNext(new Submission(purpose, referenceId, to, callData, result));
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

    public String address() {
        return chain.relayerAddress();
    }

    private Mono<Void> process(Submission submission) {
        return send(submission, true)
                .doOnNext(transaction -> submission.result().tryEmitValue(transaction))
                .doOnError(error -> submission.result().tryEmitError(error))
                .onErrorResume(error -> Mono.empty())
                .then();
    }

    private Mono<ChainTransaction> send(Submission submission, boolean retryOnStaleNonce) {
        String from = chain.relayerAddress();
        return chain.client().estimateGas(from, submission.to(), submission.callData())
                .onErrorMap(ChainRpcException.class, error -> new RelayerRefusedException(error.getMessage()))
                .flatMap(gasEstimate -> Mono.zip(chain.client().gasPrice(), chain.client().maxPriorityFeePerGas(),
                                chain.client().pendingNonce(from))
                        .flatMap(fees -> transactions.takeNonce(from, fees.getT3().longValueExact())
                                .flatMap(nonce -> {
                                    BigInteger gasLimit = gasEstimate.multiply(GAS_HEADROOM_PERCENT).divide(HUNDRED);
                                    BigInteger priority = fees.getT2();
                                    BigInteger maxFee = fees.getT1().multiply(BigInteger.TWO).add(priority);
                                    ChainTransaction signed = sign(submission.purpose(), submission.referenceId(),
                                            submission.to(), submission.callData(), nonce, gasLimit, maxFee, priority, null);
                                    return transactions.insert(signed).then(broadcast(signed, retryOnStaleNonce, submission));
                                })));
    }

    private Mono<ChainTransaction> broadcast(ChainTransaction signed, boolean retryOnStaleNonce, Submission submission) {
        return chain.client().sendRawTransaction(signed.signedRaw())
                .flatMap(hash -> transactions.markBroadcast(signed.hash(), clock.instant()).thenReturn(signed))
                .onErrorResume(ChainRpcException.class, refused -> {
                    String message = String.valueOf(refused.getMessage()).toLowerCase(java.util.Locale.ROOT);
                    if (message.contains("already known")) {
                        return transactions.markBroadcast(signed.hash(), clock.instant()).thenReturn(signed);
                    }
                    Mono<Void> giveBack = transactions.close(signed.hash(), ChainTransaction.Status.REJECTED, null, null,
                                    refused.getMessage(), clock.instant())
                            .then(transactions.returnNonce(signed.from(), signed.nonce())).then();
                    if (message.contains("nonce too low") && retryOnStaleNonce) {
                        log.warn("Relayer nonce {} was already used on chain; taking the next one", signed.nonce());
                        return giveBack.then(send(submission, false));
                    }
                    log.warn("Node refused relayer transaction {} ({}): {}", signed.hash(), signed.purpose(), refused.getMessage());
                    return giveBack.then(Mono.error(new RelayerRefusedException(refused.getMessage())));
                })
                // No answer is not a refusal: the node may have the transaction. It stays SIGNED; the tracker
                // broadcasts the same bytes again.
                .onErrorResume(error -> !(error instanceof RelayerRefusedException), error -> {
                    log.warn("No answer while broadcasting {}; the tracker will retry the same transaction: {}",
                            signed.hash(), error.toString());
                    return Mono.just(signed);
                });
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
            worker = lane.asFlux().concatMap(this::process, 1).subscribe();
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

    private record Submission(String purpose, String referenceId, String to, String callData,
            Sinks.One<ChainTransaction> result) {
    }

}
