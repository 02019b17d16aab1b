package dev.gpubroker.payments.chain;

import org.web3j.crypto.Credentials;

/**
 * The chain as configured and checked at start: the client, the USDC token and its EIP-712 domain, the escrow, the
 * payee that settlements pay, and the relayer that submits every transaction (and is the escrow's operator).
 */
public record ChainContext(
        ChainClient client,
        long chainId,
        TokenContract usdc,
        Eip3009 usdcAuthorizations,
        String escrowAddress,
        String payeeAddress,
        Credentials relayer,
        int confirmations) {

    /** CAIP-2 network id, as x402 names it. */
    public String network() {
        return "eip155:" + chainId;
    }

    public String relayerAddress() {
        return relayer.getAddress();
    }

    @Override
    public String toString() {
        return "ChainContext[chainId=" + chainId + ", usdc=" + usdc.address() + ", escrow=" + escrowAddress + ", payee="
                + payeeAddress + ", relayer=" + relayer.getAddress() + "]";
    }
}
