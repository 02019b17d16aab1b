package dev.gpubroker.payments;

import java.math.BigInteger;
import java.time.Instant;

import org.web3j.crypto.Hash;
import org.web3j.crypto.Sign;
import org.web3j.utils.Numeric;

import dev.gpubroker.payments.chain.EscrowContract;
import dev.gpubroker.payments.chain.TransferAuthorization;

/**
 * GpuEscrow.creditTransfer records a stock x402 transfer that reached the escrow already; it takes the same arguments
 * as depositTransfer, which pulls one. So a payment's credit is its failed pull's call data under the other selector:
 * the same terms and the same signature, never new ones. returnTransfer, which sends a stray transfer back to its
 * payer, takes the transfer's own part of those arguments (payer, amount, window, nonce, signature), read back from
 * the same call.
 */
final class TransferDeposits {

    private static final String ARGUMENTS = "(bytes32,address,address,uint256,uint256,uint256,uint256,bytes32,uint8,"
            + "bytes32,bytes32)";
    private static final String CREDIT_SELECTOR = selector("creditTransfer" + ARGUMENTS);
    private static final String DEPOSIT_SELECTOR = selector("depositTransfer" + ARGUMENTS);

    private TransferDeposits() {
    }

    private static final int WORD = 64;

    /** The returnTransfer call for the transfer in this depositTransfer call: the same authorization and signature. */
    static String returnOf(String depositTransferCallData, String escrowAddress) {
        String arguments = argumentsOf(depositTransferCallData);
        TransferAuthorization authorization = new TransferAuthorization("0x" + word(arguments, 1).substring(24),
                escrowAddress, uint(arguments, 3), uint(arguments, 5), uint(arguments, 6), "0x" + word(arguments, 7));
        Sign.SignatureData signature = new Sign.SignatureData(uint(arguments, 8).byteValueExact(),
                Numeric.hexStringToByteArray(word(arguments, 9)), Numeric.hexStringToByteArray(word(arguments, 10)));
        return EscrowContract.returnTransfer(authorization, signature);
    }

    private static BigInteger uint(String arguments, int index) {
        return new BigInteger(word(arguments, index), 16);
    }

    /** Who signed the transfer in this depositTransfer call, for how much, until when, under which nonce. */
    record Transfer(String payer, BigInteger amount, Instant validBefore, String nonce) {
    }

    static Transfer transferOf(String depositTransferCallData) {
        String arguments = argumentsOf(depositTransferCallData);
        return new Transfer("0x" + word(arguments, 1).substring(24), new BigInteger(word(arguments, 3), 16),
                Instant.ofEpochSecond(new BigInteger(word(arguments, 6), 16).min(BigInteger.valueOf(Long.MAX_VALUE / 2))
                        .longValueExact()), "0x" + word(arguments, 7));
    }

    private static String word(String arguments, int index) {
        return arguments.substring(index * WORD, (index + 1) * WORD);
    }

    private static String argumentsOf(String depositTransferCallData) {
        String data = Numeric.prependHexPrefix(depositTransferCallData);
        if (!data.regionMatches(true, 0, DEPOSIT_SELECTOR, 0, DEPOSIT_SELECTOR.length())
                || data.length() != DEPOSIT_SELECTOR.length() + 11 * WORD) {
            throw new IllegalArgumentException("not a depositTransfer call");
        }
        return data.substring(DEPOSIT_SELECTOR.length());
    }

    private static String selector(String signature) {
        return Hash.sha3String(signature).substring(0, 10);
    }

    /** The creditTransfer call with the same arguments as this depositTransfer call. */
    static String creditOf(String depositTransferCallData) {
        String data = Numeric.prependHexPrefix(depositTransferCallData);
        if (!data.regionMatches(true, 0, DEPOSIT_SELECTOR, 0, DEPOSIT_SELECTOR.length())) {
            throw new IllegalArgumentException("not a depositTransfer call: " + data.substring(0, Math.min(10,
                    data.length())));
        }
        return CREDIT_SELECTOR + data.substring(DEPOSIT_SELECTOR.length());
    }
}
