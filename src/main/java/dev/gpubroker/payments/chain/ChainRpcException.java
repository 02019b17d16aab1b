package dev.gpubroker.payments.chain;

/** The node answered a JSON-RPC error (a revert, a nonce error, an unknown method). */
public class ChainRpcException extends RuntimeException {

    public ChainRpcException(String message) {
        super(message);
    }
}
