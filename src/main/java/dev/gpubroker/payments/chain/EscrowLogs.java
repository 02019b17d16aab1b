package dev.gpubroker.payments.chain;

import java.math.BigInteger;
import java.util.List;

import org.web3j.abi.FunctionReturnDecoder;
import org.web3j.abi.datatypes.Event;
import org.web3j.abi.datatypes.Type;
import org.web3j.protocol.core.methods.response.Log;
import org.web3j.protocol.core.methods.response.TransactionReceipt;

import dev.gpubroker.money.Usdc;

/** Finding the escrow's event in a receipt: a successful escrow call always emits exactly the event it stands for. */
public final class EscrowLogs {

    private EscrowLogs() {
    }

    public static EscrowEvent.Deposited deposited(TransactionReceipt receipt, String escrowAddress) {
        Log log = require(receipt, escrowAddress, EscrowContract.DEPOSITED_TOPIC, "Deposited");
        List<Type> values = values(log, EscrowContract.DEPOSITED);
        return new EscrowEvent.Deposited(usdc(values.get(0)), log.getLogIndex().intValueExact());
    }

    public static EscrowEvent.Settled settled(TransactionReceipt receipt, String escrowAddress) {
        Log log = require(receipt, escrowAddress, EscrowContract.SETTLED_TOPIC, "Settled");
        List<Type> values = values(log, EscrowContract.SETTLED);
        return new EscrowEvent.Settled(usdc(values.get(0)), usdc(values.get(1)), log.getLogIndex().intValueExact());
    }

    public static EscrowEvent.Refunded refunded(TransactionReceipt receipt, String escrowAddress) {
        Log log = require(receipt, escrowAddress, EscrowContract.REFUNDED_TOPIC, "Refunded");
        List<Type> values = values(log, EscrowContract.REFUNDED);
        return new EscrowEvent.Refunded(usdc(values.get(0)), log.getLogIndex().intValueExact());
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

    @SuppressWarnings("rawtypes")
    private static List<Type> values(Log log, Event event) {
        return FunctionReturnDecoder.decode(log.getData(), event.getNonIndexedParameters());
    }

    @SuppressWarnings("rawtypes")
    private static Usdc usdc(Type value) {
        return Usdc.ofMicros(((BigInteger) value.getValue()).longValueExact());
    }
}
