package dev.gpubroker.payments.chain;

import org.web3j.protocol.core.methods.response.Log;
import org.web3j.protocol.core.methods.response.TransactionReceipt;

/** Finding the escrow's event in a receipt: a successful escrow call always emits exactly the event it stands for. */
public final class EscrowLogs {

    private EscrowLogs() {
    }

    /** The escrow's log with this topic, or a loud failure: a success without its event means the chain is not ours. */
    public static Log require(TransactionReceipt receipt, String escrowAddress, String topic, String eventName) {
        return receipt.getLogs().stream()
                .filter(entry -> entry.getAddress().equalsIgnoreCase(escrowAddress))
                .filter(entry -> !entry.getTopics().isEmpty() && entry.getTopics().getFirst().equals(topic))
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("transaction " + receipt.getTransactionHash()
                        + " succeeded without a " + eventName + " event from the escrow " + escrowAddress));
    }
}
