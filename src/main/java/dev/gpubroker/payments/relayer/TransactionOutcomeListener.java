package dev.gpubroker.payments.relayer;

import java.util.Set;

import org.web3j.protocol.core.methods.response.TransactionReceipt;

import reactor.core.publisher.Mono;

/**
 * Told when a relayer transaction of one of its purposes is final. Called by one instance (the one whose tracker
 * claimed the mined transaction) before the transaction is marked final, and again, by any instance, after a crash or a
 * failure in between: implementations are idempotent. A purpose has one listener at most (the tracker refuses two).
 */
public interface TransactionOutcomeListener {

    Set<String> purposes();

    Mono<Void> onConfirmed(ChainTransaction transaction, TransactionReceipt receipt);

    Mono<Void> onFailed(ChainTransaction transaction, String reason);
}
