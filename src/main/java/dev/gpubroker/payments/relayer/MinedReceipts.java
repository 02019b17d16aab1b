package dev.gpubroker.payments.relayer;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.web3j.protocol.core.methods.response.TransactionReceipt;

import dev.gpubroker.payments.chain.ChainClient;
import dev.gpubroker.payments.chain.ChainRpcException;
import dev.gpubroker.platform.faults.Fault;
import dev.gpubroker.platform.faults.Faults;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The relayer's receipts in the recent blocks, read a whole block at a time ({@code eth_getBlockReceipts}) as the chain
 * grows: one call per block however many of the relayer's transactions it holds, where asking for each open
 * transaction's receipt costs one call per transaction on every pass of the tracker. Only the relayer's own receipts are
 * kept, from the last {@link #BLOCKS_KEPT} blocks read, until the tracker has recorded them.
 *
 * <p>What it holds is a hint, never the only way to learn of a receipt: the tracker asks for a transaction's receipt
 * itself when this has not seen it within a few seconds (blocks read before this instance started or took the tracker
 * over, blocks skipped after a long stop, a node without the method), and reads it again before it counts when the
 * chain asks for more than one confirmation (a block read here may since have been replaced).
 */
final class MinedReceipts {

    private static final Logger log = LoggerFactory.getLogger(MinedReceipts.class);
    /** Blocks read in one pass at most; the rest on the next pass (a pass is every 250 ms). */
    private static final int BLOCKS_PER_PASS_MAX = 32;
    /** Further behind than this (the tracker's lease was elsewhere, the server stopped), reading starts again at the head. */
    private static final int BLOCKS_BEHIND_MAX = 128;
    /** Receipts from blocks older than this (below the last block read) are let go; the tracker asks for those itself. */
    private static final int BLOCKS_KEPT = 64;

    private final ChainClient client;
    private final String relayerAddress;
    private final Map<String, TransactionReceipt> byHash = new ConcurrentHashMap<>();
    /** Written only under {@link #reading}. */
    private final NavigableMap<Long, List<String>> hashesByBlock = new TreeMap<>();
    private final AtomicBoolean reading = new AtomicBoolean();
    private volatile long lastRead = -1;
    private volatile boolean unsupported;

    MinedReceipts(ChainClient client, String relayerAddress) {
        this.client = client;
        this.relayerAddress = relayerAddress;
    }

    /**
     * Reads the blocks after the last one read, up to {@code head} ({@link #BLOCKS_PER_PASS_MAX} at most). Answers
     * whether every block up to the head has now been read; false also when another read is under way, when the node
     * failed to answer (the next pass goes on from the same block) or when it does not offer the method.
     */
    Mono<Boolean> catchUp(BigInteger head) {
        if (unsupported || !reading.compareAndSet(false, true)) {
            return Mono.just(false);
        }
        long headNumber = head.longValueExact();
        return Mono.defer(() -> {
                    if (lastRead < 0 || headNumber - lastRead > BLOCKS_BEHIND_MAX || headNumber < lastRead) {
                        // First pass, a long pause, or a chain that went back (a reset development chain): from the head.
                        lastRead = headNumber - 1;
                    }
                    long first = lastRead + 1;
                    long last = Math.min(headNumber, lastRead + BLOCKS_PER_PASS_MAX);
                    return Flux.range(0, (int) (last - first + 1))
                            .map(offset -> first + offset)
                            .concatMap(block -> client.blockReceipts(BigInteger.valueOf(block))
                                    .doOnNext(receipts -> remember(block, receipts)), 1)
                            .then(Mono.fromSupplier(() -> lastRead == headNumber));
                })
                .onErrorResume(ChainRpcException.class, refused -> {
                    if (Faults.classify(refused) != Fault.UNAVAILABLE) {
                        unsupported = true;
                        log.warn("The node does not answer eth_getBlockReceipts ({}); the relayer's receipts are asked "
                                + "for one transaction at a time", refused.getMessage());
                    }
                    return Mono.just(false);
                })
                .onErrorResume(noAnswer -> Mono.just(false))
                .doFinally(signal -> reading.set(false));
    }

    /** The receipt of a relayer transaction mined in a block read here, until it is forgotten or too old. */
    Optional<TransactionReceipt> find(String hash) {
        return Optional.ofNullable(byHash.get(hash));
    }

    /** Its outcome is recorded, or the block it was read from is gone: not to be found here again. */
    void forget(String hash) {
        byHash.remove(hash);
    }

    private void remember(long block, List<TransactionReceipt> receipts) {
        List<String> ours = new ArrayList<>();
        for (TransactionReceipt receipt : receipts) {
            if (relayerAddress.equalsIgnoreCase(receipt.getFrom())) {
                byHash.put(receipt.getTransactionHash(), receipt);
                ours.add(receipt.getTransactionHash());
            }
        }
        if (!ours.isEmpty()) {
            hashesByBlock.put(block, ours);
        }
        lastRead = block;
        while (!hashesByBlock.isEmpty() && hashesByBlock.firstKey() <= block - BLOCKS_KEPT) {
            hashesByBlock.pollFirstEntry().getValue().forEach(byHash::remove);
        }
    }
}
