package dev.gpubroker.payments.relayer;

import java.util.Locale;

/**
 * What a node's error answer to {@code eth_sendRawTransaction} means for the transaction and its nonce: the one place
 * that reads those messages (geth, anvil, reth and most providers word them alike).
 */
enum BroadcastAnswer {

    /** The node has these very bytes already: as good as accepted. */
    ALREADY_KNOWN,
    /**
     * Another transaction holds the nonce, mined ("nonce too low") or pooled ("replacement transaction underpriced"):
     * this one will not be mined, and the nonce is not free.
     */
    NONCE_USED,
    /** Refused for a reason of its own (fees, funds, gas): not in the pool, never mined; its nonce is free again. */
    REFUSED;

    static BroadcastAnswer of(String message) {
        String text = String.valueOf(message).toLowerCase(Locale.ROOT);
        if (text.contains("already known") || text.contains("known transaction")) {
            return ALREADY_KNOWN;
        }
        if (text.contains("nonce too low") || text.contains("replacement transaction underpriced")
                || text.contains("nonce has already been used")) {
            return NONCE_USED;
        }
        return REFUSED;
    }
}
