package dev.gpubroker.payments.relayer;

/**
 * The transaction was not sent: the node refused it or it would revert. Nothing moved; its nonce goes to the next
 * transaction.
 */
public class RelayerRefusedException extends RuntimeException {

    public RelayerRefusedException(String message) {
        super(message);
    }
}
