package dev.gpubroker.payments;

import java.math.BigInteger;
import java.time.Duration;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;

import org.springframework.stereotype.Component;

import dev.gpubroker.payments.chain.ChainHead;
import dev.gpubroker.payments.chain.PaymentChain;
import dev.gpubroker.payments.chain.TokenContract;
import reactor.core.publisher.Mono;

/**
 * Wallets' USDC balances as {@code account} shows them, read from the chain once per block per wallet: a balance
 * cannot change within a block, and a read per call was a node round trip (and an EVM call in the node) per call.
 * Which block is current comes from {@link ChainHead}, which the transaction tracker keeps within a quarter second of
 * the node's: a balance shown is as of that head or newer, so a transfer this server did not make shows at most that
 * much later than on the node; the server's own transactions (deposits, settlements, refunds) are reported final only
 * after a later head was seen, and show at once. Without a recent head ({@link #HEAD_MAX_AGE}) every call reads.
 * Readers of the same wallet at the same block share one read. Bounded: {@value #WALLETS_MAX} wallets, then all are
 * forgotten (they come back on the next reads).
 */
@Component
class WalletBalances {

    static final Duration HEAD_MAX_AGE = Duration.ofSeconds(1);
    static final int WALLETS_MAX = 10_000;

    private record Read(long block, Mono<BigInteger> balance) {
    }

    private final TokenContract usdc;
    private final ChainHead head;
    private final ConcurrentHashMap<String, Read> reads = new ConcurrentHashMap<>();

    WalletBalances(PaymentChain paymentChain, ChainHead head) {
        this.usdc = paymentChain.context().usdc();
        this.head = head;
    }

    Mono<BigInteger> balanceOf(String wallet) {
        OptionalLong block = head.recent(HEAD_MAX_AGE);
        if (wallet == null || block.isEmpty()) {
            return usdc.balanceOf(wallet);
        }
        String key = wallet.toLowerCase(Locale.ROOT);
        Read current = reads.get(key);
        if (current != null && current.block() >= block.getAsLong()) {
            // The common case, without compute's lock on the entry, which every call for this wallet would take.
            return current.balance();
        }
        if (reads.size() >= WALLETS_MAX && !reads.containsKey(key)) {
            reads.clear();
        }
        Read read = reads.compute(key, (ignored, known) -> known != null && known.block() >= block.getAsLong() ? known
                // Read at the node's latest block, which is this head or newer: never older than the head it is kept for.
                // A failed read is not kept: the next caller tries again.
                : new Read(block.getAsLong(), usdc.balanceOf(wallet).cache(value -> Duration.ofDays(1),
                        error -> Duration.ZERO, () -> Duration.ZERO)));
        return read.balance();
    }
}
