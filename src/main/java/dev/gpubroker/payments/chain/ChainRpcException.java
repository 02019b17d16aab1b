package dev.gpubroker.payments.chain;

import dev.gpubroker.platform.faults.ClassifiedFault;
import dev.gpubroker.platform.faults.Fault;
import dev.gpubroker.platform.faults.Faults;

/**
 * The node answered a JSON-RPC error (a revert, a nonce error, an unknown method): an answer, so never "no answer".
 * Which kind of error it is, {@link Faults} reads from the node's message.
 */
public class ChainRpcException extends RuntimeException implements ClassifiedFault {

    public ChainRpcException(String message) {
        super(message);
    }

    @Override
    public Fault fault() {
        return Faults.ofNodeMessage(getMessage());
    }
}
