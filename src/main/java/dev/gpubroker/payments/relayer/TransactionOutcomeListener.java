package dev.gpubroker.payments.relayer;

import org.web3j.protocol.core.methods.response.TransactionReceipt;

import reactor.core.publisher.Mono;

/**
 * Told when a relayer transaction of its purpose is final. Called by one instance (the one whose tracker claimed the
 * mined transaction) before the transaction is marked final, and again, by any instance, after a crash or a failure in
 * between: implementations are idempotent.
 */
public interface TransactionOutcomeListener {

    String purpose();

    Mono<Void> onConfirmed(ChainTransaction transaction, TransactionReceipt receipt);

    Mono<Void> onFailed(ChainTransaction transaction, String reason);
}
