package dev.gpubroker.payments;

import org.web3j.crypto.Hash;
import org.web3j.utils.Numeric;

/**
 * GpuEscrow.creditTransfer records a stock x402 transfer that reached the escrow already; it takes the same arguments
 * as depositTransfer, which pulls one. So a payment's credit is its failed pull's call data under the other selector:
 * the same terms and the same signature, never new ones.
 */
final class TransferDeposits {

    private static final String ARGUMENTS = "(bytes32,address,address,uint256,uint256,uint256,uint256,bytes32,uint8,"
            + "bytes32,bytes32)";
    private static final String CREDIT_SELECTOR = selector("creditTransfer" + ARGUMENTS);
    private static final String DEPOSIT_SELECTOR = selector("depositTransfer" + ARGUMENTS);

    private TransferDeposits() {
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
