package dev.gpubroker.payments.chain;

import java.math.BigInteger;
import java.util.Arrays;
import java.util.List;

import org.web3j.abi.EventEncoder;
import org.web3j.abi.FunctionEncoder;
import org.web3j.abi.TypeReference;
import org.web3j.abi.datatypes.Address;
import org.web3j.abi.datatypes.DynamicArray;
import org.web3j.abi.datatypes.Event;
import org.web3j.abi.datatypes.Function;
import org.web3j.abi.datatypes.generated.Bytes32;
import org.web3j.abi.datatypes.generated.Uint256;
import org.web3j.abi.datatypes.generated.Uint8;
import org.web3j.crypto.Hash;
import org.web3j.crypto.Sign;
import org.web3j.utils.Numeric;

/** ABI encoding for GpuEscrow (src/main/solidity/GpuEscrow.sol, docs/contracts.md). */
public final class EscrowContract {

    public static final Event DEPOSITED = new Event("Deposited", List.of(
            new TypeReference<Bytes32>(true) { }, new TypeReference<Address>(true) { }, new TypeReference<Address>(true) { },
            new TypeReference<Uint256>() { }, new TypeReference<Uint256>() { }));
    public static final Event SETTLED = new Event("Settled", List.of(
            new TypeReference<Bytes32>(true) { }, new TypeReference<Uint256>() { }, new TypeReference<Uint256>() { }));
    public static final Event REFUNDED = new Event("Refunded", List.of(
            new TypeReference<Bytes32>(true) { }, new TypeReference<Uint256>() { }));
    public static final Event RECLAIMED = new Event("Reclaimed", List.of(
            new TypeReference<Bytes32>(true) { }, new TypeReference<Uint256>() { }));
    /** A transfer someone else submitted straight to the token, attributed to a reservation by creditTransfer. */
    public static final Event TRANSFER_CREDITED = new Event("TransferCredited", List.of(
            new TypeReference<Bytes32>(true) { }, new TypeReference<Address>(true) { }, new TypeReference<Bytes32>() { }));

    public static final String DEPOSITED_TOPIC = EventEncoder.encode(DEPOSITED);
    public static final String SETTLED_TOPIC = EventEncoder.encode(SETTLED);
    public static final String REFUNDED_TOPIC = EventEncoder.encode(REFUNDED);
    public static final String RECLAIMED_TOPIC = EventEncoder.encode(RECLAIMED);
    public static final String TRANSFER_CREDITED_TOPIC = EventEncoder.encode(TRANSFER_CREDITED);
    public static final Event TRANSFER_RETURNED = new Event("TransferReturned", List.of(
            new TypeReference<Address>(true) { }, new TypeReference<Bytes32>() { }, new TypeReference<Uint256>() { }));
    public static final String TRANSFER_RETURNED_TOPIC = EventEncoder.encode(TRANSFER_RETURNED);

    /** What {@code version()} answers on an escrow with depositTransfer, creditTransfer and settleBatch. */
    public static final BigInteger TRANSFER_DEPOSITS_VERSION = BigInteger.TWO;

    private EscrowContract() {
    }

    /** The reservation id on chain: keccak256 of the server's reservation id. */
    public static String reservationKey(String reservationId) {
        return Hash.sha3String(reservationId);
    }

    /** The EIP-3009 nonce the escrow requires: it binds the payer's signature to the deposit's terms. */
    public static String depositNonce(String reservationKey, String payee, BigInteger deadline) {
        String encoded = FunctionEncoder.encodeConstructor(List.of(
                new Bytes32(Numeric.hexStringToByteArray(reservationKey)), new Address(payee), new Uint256(deadline)));
        return Hash.sha3(Numeric.prependHexPrefix(encoded));
    }

    public static String deposit(String reservationKey, ReceiveAuthorization authorization, String payee,
            BigInteger deadline, Sign.SignatureData signature) {
        return FunctionEncoder.encode(new Function("deposit", List.of(
                new Bytes32(Numeric.hexStringToByteArray(reservationKey)),
                new Address(authorization.from()),
                new Address(payee),
                new Uint256(authorization.value()),
                new Uint256(deadline),
                new Uint256(authorization.validAfter()),
                new Uint256(authorization.validBefore()),
                new Uint8(Byte.toUnsignedInt(signature.getV()[0])),
                new Bytes32(Arrays.copyOf(signature.getR(), 32)),
                new Bytes32(Arrays.copyOf(signature.getS(), 32))), List.of()));
    }

    /**
     * Pulls a stock x402 {@code TransferWithAuthorization} (random nonce) into escrow for a reservation. Only the
     * operator may send it: the payer's signature does not cover the reservation, the payee or the deadline.
     */
    public static String depositTransfer(String reservationKey, TransferAuthorization authorization, String payee,
            BigInteger deadline, Sign.SignatureData signature) {
        return transferCall("depositTransfer", reservationKey, authorization, payee, deadline, signature);
    }

    /**
     * Records a deposit for a {@code TransferWithAuthorization} that someone else already submitted straight to the
     * token. Send it only after seeing the token's AuthorizationUsed(payer, nonce) and Transfer(payer, escrow, amount)
     * in one transaction without a Deposited event of the escrow (docs/contracts.md).
     */
    public static String creditTransfer(String reservationKey, TransferAuthorization authorization, String payee,
            BigInteger deadline, Sign.SignatureData signature) {
        return transferCall("creditTransfer", reservationKey, authorization, payee, deadline, signature);
    }

    /**
     * GpuEscrow.returnTransfer: sends back to its payer a TransferWithAuthorization to the escrow that someone submitted
     * straight to the token after its payment had failed (docs/contracts.md). Same checks on chain as creditTransfer.
     */
    public static String returnTransfer(TransferAuthorization authorization, Sign.SignatureData signature) {
        return FunctionEncoder.encode(new Function("returnTransfer", List.of(
                new Address(authorization.from()),
                new Uint256(authorization.value()),
                new Uint256(authorization.validAfter()),
                new Uint256(authorization.validBefore()),
                new Bytes32(Numeric.hexStringToByteArray(authorization.nonce())),
                new Uint8(Byte.toUnsignedInt(signature.getV()[0])),
                new Bytes32(java.util.Arrays.copyOf(signature.getR(), 32)),
                new Bytes32(java.util.Arrays.copyOf(signature.getS(), 32))), List.of()));
    }

    private static String transferCall(String functionName, String reservationKey, TransferAuthorization authorization,
            String payee, BigInteger deadline, Sign.SignatureData signature) {
        return FunctionEncoder.encode(new Function(functionName, List.of(
                new Bytes32(Numeric.hexStringToByteArray(reservationKey)),
                new Address(authorization.from()),
                new Address(payee),
                new Uint256(authorization.value()),
                new Uint256(deadline),
                new Uint256(authorization.validAfter()),
                new Uint256(authorization.validBefore()),
                new Bytes32(Numeric.hexStringToByteArray(authorization.nonce())),
                new Uint8(Byte.toUnsignedInt(signature.getV()[0])),
                new Bytes32(Arrays.copyOf(signature.getR(), 32)),
                new Bytes32(Arrays.copyOf(signature.getS(), 32))), List.of()));
    }

    /** Settles several reservations in one transaction: {@code used.get(i)} of {@code reservationKeys.get(i)}. */
    public static String settleBatch(List<String> reservationKeys, List<BigInteger> used) {
        if (reservationKeys.isEmpty() || reservationKeys.size() != used.size()) {
            throw new IllegalArgumentException("a batch settles at least one reservation, one used amount each; got "
                    + reservationKeys.size() + " reservations and " + used.size() + " amounts");
        }
        return FunctionEncoder.encode(new Function("settleBatch", List.of(
                new DynamicArray<>(Bytes32.class, reservationKeys.stream()
                        .map(key -> new Bytes32(Numeric.hexStringToByteArray(key))).toList()),
                new DynamicArray<>(Uint256.class, used.stream().map(Uint256::new).toList())), List.of()));
    }

    public static String settle(String reservationKey, BigInteger used) {
        return FunctionEncoder.encode(new Function("settle", List.of(
                new Bytes32(Numeric.hexStringToByteArray(reservationKey)), new Uint256(used)), List.of()));
    }

    public static String refund(String reservationKey) {
        return FunctionEncoder.encode(new Function("refund", List.of(
                new Bytes32(Numeric.hexStringToByteArray(reservationKey))), List.of()));
    }

    /** The call data of {@code deposits(reservationId)}, the escrow's view of one deposit. */
    public static String depositsCall(String reservationKey) {
        return FunctionEncoder.encode(depositsFunction(reservationKey));
    }

    /** Decodes what {@code deposits(reservationId)} answered. */
    @SuppressWarnings("rawtypes")
    public static EscrowDeposit decodeDeposit(String reservationKey, String result) {
        List<org.web3j.abi.datatypes.Type> values = org.web3j.abi.FunctionReturnDecoder.decode(result,
                depositsFunction(reservationKey).getOutputParameters());
        if (values.size() != 7) {
            throw new IllegalStateException("the escrow's deposits() answered " + values.size() + " values, not 7");
        }
        int state = ((BigInteger) values.get(6).getValue()).intValueExact();
        if (state < 0 || state >= EscrowDeposit.State.values().length) {
            throw new IllegalStateException("the escrow reports an unknown deposit state " + state);
        }
        return new EscrowDeposit((String) values.get(0).getValue(), (String) values.get(1).getValue(),
                (BigInteger) values.get(2).getValue(), (BigInteger) values.get(3).getValue(),
                (BigInteger) values.get(4).getValue(), (BigInteger) values.get(5).getValue(),
                EscrowDeposit.State.values()[state]);
    }

    private static Function depositsFunction(String reservationKey) {
        return new Function("deposits", List.of(new Bytes32(Numeric.hexStringToByteArray(reservationKey))), List.of(
                new TypeReference<Address>() { }, new TypeReference<Address>() { }, new TypeReference<Uint256>() { },
                new TypeReference<Uint256>() { }, new TypeReference<Uint256>() { }, new TypeReference<Uint256>() { },
                new TypeReference<Uint8>() { }));
    }

    /** The call data of {@code operator()}: the one account that may settle and refund. */
    public static String operatorCall() {
        return FunctionEncoder.encode(new Function("operator", List.of(), List.of(new TypeReference<Address>() { })));
    }

    /**
     * The call data of {@code version()}: 2 on an escrow with depositTransfer, creditTransfer and settleBatch; an older
     * escrow has no such function and the call reverts.
     */
    public static String versionCall() {
        return FunctionEncoder.encode(new Function("version", List.of(), List.of(new TypeReference<Uint256>() { })));
    }

    /** The call data of {@code unattributed()}: tokens the escrow holds beyond its open deposits. */
    /** The call data of {@code transferCredited(payer, nonce)}: whether that transfer was credited or returned already. */
    public static String transferCreditedCall(String payer, String nonce) {
        return FunctionEncoder.encode(new Function("transferCredited", List.of(new Address(payer),
                new Bytes32(Numeric.hexStringToByteArray(nonce))), List.of(new TypeReference<org.web3j.abi.datatypes.Bool>() { })));
    }

    public static String unattributedCall() {
        return FunctionEncoder.encode(new Function("unattributed", List.of(),
                List.of(new TypeReference<Uint256>() { })));
    }

    public static String reclaim(String reservationKey) {
        return FunctionEncoder.encode(new Function("reclaim", List.of(
                new Bytes32(Numeric.hexStringToByteArray(reservationKey))), List.of()));
    }
}
