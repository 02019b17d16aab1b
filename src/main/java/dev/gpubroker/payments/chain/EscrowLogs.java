package dev.gpubroker.payments.chain;

import java.math.BigInteger;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

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

    /**
     * Every Settled event of the escrow in the receipt (a settleBatch emits one per reservation), by the reservation's
     * key on chain (lower-case hex, as {@link EscrowContract#reservationKey} writes it). Two events for one key mean
     * the receipt is not a settleBatch of ours: loud.
     */
    public static Map<String, EscrowEvent.Settled> settledByReservationKey(TransactionReceipt receipt,
            String escrowAddress) {
        Map<String, EscrowEvent.Settled> settled = new LinkedHashMap<>();
        receipt.getLogs().stream()
                .filter(entry -> entry.getAddress().equalsIgnoreCase(escrowAddress))
                .filter(entry -> entry.getTopics().size() == 2
                        && entry.getTopics().getFirst().equals(EscrowContract.SETTLED_TOPIC))
                .forEach(entry -> {
                    List<Type> values = values(entry, EscrowContract.SETTLED);
                    EscrowEvent.Settled event = new EscrowEvent.Settled(usdc(values.get(0)), usdc(values.get(1)),
                            entry.getLogIndex().intValueExact());
                    if (settled.put(entry.getTopics().get(1).toLowerCase(Locale.ROOT), event) != null) {
                        throw new IllegalStateException("transaction " + receipt.getTransactionHash() + " settled "
                                + entry.getTopics().get(1) + " twice");
                    }
                });
        return settled;
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
