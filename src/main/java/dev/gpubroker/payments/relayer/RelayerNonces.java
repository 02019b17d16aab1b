package dev.gpubroker.payments.relayer;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongFunction;
import java.util.stream.LongStream;

import org.springframework.transaction.reactive.TransactionalOperator;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The relayer account's nonces, allocated through the database so that any number of broker instances sharing it
 * never hand out one nonce twice and never leave a gap on the chain.
 *
 * <p>Every decision is made inside one database transaction that first locks the account's counter row
 * ({@code SELECT ... FOR UPDATE}, the same on H2 and PostgreSQL), so instances take turns. Allocating is: lock, take
 * the lowest free nonce if there is one, else the counter (raised to the chain's pending nonce if the chain is ahead,
 * never lowered by it), look for a live transaction of the same purpose and reference (answered instead of signing a
 * second: what keeps a settlement or a refund to one transaction when two instances submit it at once), sign, insert
 * the signed transaction, advance the counter, commit; for several submissions
 * waiting at once, the same for each in one transaction (one commit: what a relayer under load saves most on). The transaction is broadcast
 * only after the commit, so a crash can leave a signed transaction unsent (the tracker of any instance sends those
 * same bytes), never a sent transaction the database does not know.
 *
 * <p>A nonce is never handed back by lowering the counter past a nonce somebody else holds. When the node refuses a
 * transaction on its first broadcast, its nonce n is released under the same lock: if n is the last nonce handed out,
 * the counter comes back to n (and further down over free nonces directly below it), so the next submission uses it;
 * otherwise another submission already holds n+1, and n goes to {@code relayer_free_nonces}, where the next
 * submission of any instance takes it before the counter, and where the tracker fills it with a no-op if nobody took
 * it within a few seconds (a transaction above a gap would wait forever). Reusing n for other content is safe only
 * because the node refused the first transaction: it was never in a pool and can never be mined.
 */
final class RelayerNonces {

    private final ChainTransactionRepository transactions;
    private final TransactionalOperator transaction;
    private final Clock clock;
    private final AtomicBoolean counterExists = new AtomicBoolean();

    RelayerNonces(ChainTransactionRepository transactions, TransactionalOperator transaction, Clock clock) {
        this.transactions = transactions;
        this.transaction = transaction;
        this.clock = clock;
    }

    /** A call to sign for its purpose and reference, at most once while a transaction of both is live. */
    record Signing(String purpose, String referenceId, LongFunction<ChainTransaction> sign) {

        List<String> pair() {
            return List.of(purpose, referenceId);
        }

        static List<String> pairOf(ChainTransaction transaction) {
            return List.of(transaction.purpose(), transaction.referenceId());
        }
    }

    /**
     * Signs with the next nonce and stores the signed transaction, in one database transaction: answers it once
     * committed, or the live transaction of the same purpose and reference found under the lock (nothing signed).
     * {@code sign} runs while the counter is locked; it must only sign.
     */
    Mono<Relayed> signAtNextNonce(String address, long chainPendingNonce, Signing signing) {
        return signAtNextNonces(address, chainPendingNonce, List.of(signing)).map(List::getFirst);
    }

    /**
     * Signs each call with the next nonces, in the order given, and stores them all in one database transaction (one
     * lock of the counter, one commit, however many): answers them in that order once committed. The free nonces come
     * first, lowest first, then the counter's. Each {@code sign} runs while the counter is locked; it must only sign.
     *
     * <p>A call whose purpose and reference already have a live transaction (signed, broadcast, confirmed or replaced;
     * not rejected or reverted), stored by any instance or earlier in this batch, is answered that transaction and takes
     * no nonce. Looked up after the lock is taken, this is the one check that two instances (or two callers of one) that
     * both found nothing live before submitting cannot both pass: the other's insert committed before the lock was
     * released, and every statement here reads what was committed before it began.
     */
    Mono<List<Relayed>> signAtNextNonces(String address, long chainPendingNonce, List<Signing> signings) {
        if (signings.isEmpty()) {
            return Mono.just(List.of());
        }
        Mono<Void> counter = Mono.defer(() -> counterExists.get() ? Mono.empty()
                : transactions.createCounterIfAbsent(address, chainPendingNonce)
                        .doOnSuccess(created -> counterExists.set(true)));
        Mono<List<Relayed>> allocate = Mono.defer(() -> locked(address)
                .flatMap(next -> transactions.findLive(signings.stream().map(Signing::referenceId).distinct().toList())
                        .collectMap(Signing::pairOf, live -> live, HashMap::new)
                        .flatMap(live -> {
                            // One nonce for each pair with nothing live, taken by the first call of the pair; a later
                            // call of the same pair is answered what that one signed (it is in `live` by then).
                            int count = (int) signings.stream().map(Signing::pair).distinct()
                                    .filter(pair -> !live.containsKey(pair)).count();
                            return nonces(address, chainPendingNonce, next, count).flatMap(nonces -> {
                                Iterator<Long> unused = nonces.iterator();
                                return Flux.fromIterable(signings).concatMap(signing -> {
                                    ChainTransaction found = live.get(signing.pair());
                                    if (found != null) {
                                        return Mono.<Relayed>just(new Relayed.AlreadyLive(found));
                                    }
                                    long nonce = unused.next();
                                    return store(signing.sign().apply(nonce), address, nonce)
                                            .doOnNext(signed -> live.put(signing.pair(), signed))
                                            .map(Relayed.Submitted::new);
                                }).collectList();
                            });
                        })));
        return counter.then(transaction.transactional(allocate));
    }

    /** {@code count} nonces: the free ones first, lowest first, then the counter's (advanced past them). */
    private Mono<List<Long>> nonces(String address, long chainPendingNonce, long next, int count) {
        if (count == 0) {
            return Mono.just(List.of());
        }
        return transactions.freeNonces(address, count)
                .concatMap(free -> transactions.takeFreeNonce(address, free).filter(taken -> taken).map(taken -> free))
                .collectList()
                .flatMap(free -> {
                    // The chain ahead of the counter means the account was used elsewhere: skip what it used.
                    long first = Math.max(next, chainPendingNonce);
                    int fromCounter = count - free.size();
                    List<Long> nonces = new ArrayList<>(free);
                    LongStream.range(first, first + fromCounter).forEach(nonces::add);
                    Mono<Void> advanced = fromCounter == 0 ? Mono.empty()
                            : transactions.setCounter(address, first + fromCounter);
                    return advanced.thenReturn(nonces);
                });
    }

    /**
     * Signs at a free nonce nobody took and stores it, as {@link #signAtNextNonce}; empty when the nonce is no longer
     * free (a submission or another instance's filler took it first).
     */
    Mono<ChainTransaction> signAtFreeNonce(String address, long nonce, LongFunction<ChainTransaction> sign) {
        return transaction.transactional(Mono.defer(() -> locked(address)
                .flatMap(next -> transactions.takeFreeNonce(address, nonce))
                .filter(taken -> taken)
                .flatMap(taken -> store(sign.apply(nonce), address, nonce))));
    }

    /**
     * Records the node's refusal of a transaction's first broadcast and frees its nonce (see the class comment).
     * False, and nothing freed, when the transaction is no longer SIGNED: another instance's tracker sent the same
     * bytes meanwhile and the node took them, so the nonce is in use.
     */
    Mono<Boolean> release(ChainTransaction refused, String reason) {
        String address = refused.from();
        long nonce = refused.nonce();
        Instant now = clock.instant();
        return transaction.transactional(Mono.defer(() -> locked(address)
                .flatMap(next -> transactions.reject(refused.hash(), reason, now)
                        .flatMap(rejected -> !rejected ? Mono.just(false)
                                : free(address, nonce, next, now).thenReturn(true)))));
    }

    /** Free nonces that waited longer than they should for a submission: the tracker fills them. */
    Flux<Long> freedBefore(String address, Instant before, int limit) {
        return transactions.freeNoncesFreedBefore(address, before, limit);
    }

    private Mono<Void> free(String address, long nonce, long next, Instant now) {
        if (nonce >= next) {
            return Mono.error(new IllegalStateException("nonce " + nonce + " of " + address
                    + " was never handed out (the counter is at " + next + ")"));
        }
        if (nonce + 1 < next) {
            return transactions.addFreeNonce(address, nonce, now);
        }
        // The last nonce handed out: the counter comes back to it, and over the free nonces directly below it, so no
        // free nonce is ever left above every nonce in use (the filler would spend gas on it for nothing).
        return backOverFree(address, nonce).flatMap(counter -> transactions.setCounter(address, counter));
    }

    /** The lowest nonce from which every nonce up to {@code counter} is free, taking those free nonces back. */
    private Mono<Long> backOverFree(String address, long counter) {
        return counter == 0 ? Mono.just(counter)
                : transactions.takeFreeNonce(address, counter - 1)
                        .flatMap(taken -> taken ? backOverFree(address, counter - 1) : Mono.just(counter));
    }

    private Mono<Long> locked(String address) {
        return transactions.lockCounter(address)
                .switchIfEmpty(Mono.error(() -> new IllegalStateException("no nonce counter for " + address)));
    }

    private Mono<ChainTransaction> store(ChainTransaction signed, String address, long nonce) {
        if (signed.nonce() != nonce || !signed.from().equalsIgnoreCase(address)) {
            return Mono.error(new IllegalStateException("signed " + signed.from() + "/" + signed.nonce() + " where "
                    + address + "/" + nonce + " was allocated"));
        }
        return transactions.insert(signed).thenReturn(signed);
    }
}
