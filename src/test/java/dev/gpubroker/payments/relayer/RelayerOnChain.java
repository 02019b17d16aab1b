package dev.gpubroker.payments.relayer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.DefaultBlockParameterName;

import reactor.core.publisher.Flux;

/** What the relayer tests read back: the chain's own nonces, and the database's outcome of what was sent. */
final class RelayerOnChain {

    private RelayerOnChain() {
    }

    /** Waits until every transaction is recorded CONFIRMED (by any instance's tracker); fails after {@code wait}. */
    static void awaitConfirmed(ChainTransactionRepository transactions, List<ChainTransaction> sent, Duration wait)
            throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            long open = Flux.fromIterable(sent)
                    .flatMap(transaction -> transactions.findByHash(transaction.hash()), 8)
                    .filter(transaction -> transaction.status() != ChainTransaction.Status.CONFIRMED)
                    .count().block(wait);
            if (open == 0) {
                return;
            }
            assertThat(System.nanoTime()).as(open + " of " + sent.size() + " still not confirmed").isLessThan(deadline);
            Thread.sleep(200);
        }
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
