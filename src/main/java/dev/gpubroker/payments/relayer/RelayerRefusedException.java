package dev.gpubroker.payments.relayer;

/** The transaction was not sent: the node refused it or it would revert. Nothing moved; the nonce was given back. */
public class RelayerRefusedException extends RuntimeException {

    public RelayerRefusedException(String message) {
        super(message);
    }
}
