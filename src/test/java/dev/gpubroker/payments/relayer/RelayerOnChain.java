package dev.gpubroker.payments.relayer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.DefaultBlockParameterName;

import dev.gpubroker.payments.chain.ChainClient;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** What the relayer tests read back: the chain's own nonces, and the database's outcome of what was sent. */
final class RelayerOnChain {

    private RelayerOnChain() {
    }

    /** Nothing recorded for this long: ask the node for a block (see {@link #awaitConfirmed}). */
    private static final Duration STALL = Duration.ofSeconds(5);

    /**
     * Waits until every transaction, or the fee-bumped transaction that replaced it at the same nonce, is recorded
     * CONFIRMED (by any instance's tracker), and answers those, in the order given; fails after {@code wait}.
     * A real chain makes blocks whether or not a transaction arrives; anvil on automine makes one per arriving
     * transaction, and can miss a transaction that became ready when its lower nonce arrived after it (out-of-order
     * arrival, foundry-rs/foundry#10122): it then sits in the pool until the next arrival. So after five seconds
     * without progress this asks for one block, as the next block of a real chain would come. When that is not
     * enough, the tracker replaces a transaction unmined for 30 s with higher fees at its nonce (the relayer's remedy
     * for a node that dropped or stalled it, docs/payments.md), and the replacement is what gets mined: one outcome
     * per submission still, at its nonce, which is what the callers check. A transaction the node does not hold
     * (never sent, sent above a gap) stays unmined all the same: the wait cannot hide a relayer that failed to send.
     */
    static List<ChainTransaction> awaitConfirmed(ChainTransactionRepository transactions, List<ChainTransaction> sent,
            Duration wait, ChainClient node) throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        long lastOpen = -1;
        long lastProgress = System.nanoTime();
        while (true) {
            List<ChainTransaction> mined = Flux.fromIterable(sent)
                    .flatMapSequential(transaction -> minedFor(transactions, transaction)
                            .defaultIfEmpty(transaction), 8)
                    .collectList().block(wait);
            long open = mined.stream().filter(transaction -> transaction.status() != ChainTransaction.Status.CONFIRMED)
                    .count();
            if (open == 0) {
                return mined;
            }
            assertThat(System.nanoTime()).as(open + " of " + sent.size() + " still not confirmed").isLessThan(deadline);
            if (open != lastOpen) {
                lastOpen = open;
                lastProgress = System.nanoTime();
            } else if (System.nanoTime() - lastProgress > STALL.toNanos()) {
                node.raw("evm_mine", List.of()).block(wait);
                lastProgress = System.nanoTime();
            }
            Thread.sleep(200);
        }
    }

    /** The transaction recorded CONFIRMED at this one's nonce for its reference and purpose: itself or its replacement. */
    private static Mono<ChainTransaction> minedFor(ChainTransactionRepository transactions,
            ChainTransaction sent) {
        return transactions.findByReference(sent.referenceId())
                .filter(candidate -> candidate.purpose().equals(sent.purpose()) && candidate.nonce() == sent.nonce()
                        && candidate.status() == ChainTransaction.Status.CONFIRMED)
                .next();
    }

    /** The nonces the chain holds for these transactions, lowest first. */
    static List<Long> chainNonces(Web3j web3j, List<ChainTransaction> sent) throws IOException {
        List<Long> nonces = new ArrayList<>();
        for (ChainTransaction transaction : sent) {
            nonces.add(web3j.ethGetTransactionByHash(transaction.hash()).send().getTransaction().orElseThrow()
                    .getNonce().longValueExact());
        }
        nonces.sort(null);
        return nonces;
    }

    /** The account's next nonce as of the latest block. */
    static long chainNonce(Web3j web3j, String address) throws IOException {
        return web3j.ethGetTransactionCount(address, DefaultBlockParameterName.LATEST).send().getTransactionCount()
                .longValueExact();
    }
}
