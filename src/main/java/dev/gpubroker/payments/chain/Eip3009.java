package dev.gpubroker.payments.chain;

import java.math.BigInteger;
import java.security.SignatureException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.web3j.crypto.Credentials;
import org.web3j.crypto.Keys;
import org.web3j.crypto.Sign;
import org.web3j.crypto.StructuredDataEncoder;
import org.web3j.utils.Numeric;

import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * EIP-712 typed data for EIP-3009 authorizations on a token with a given domain, encoded by web3j's
 * {@link StructuredDataEncoder}: signing for custodial wallets, and signer recovery to check what an agent signed
 * itself. Both primary types have the same fields; they differ in who may submit them: a
 * {@code ReceiveWithAuthorization} only its payee ({@code to}, the escrow), a {@code TransferWithAuthorization}
 * (what stock x402 clients sign) anyone.
 */
public final class Eip3009 {

    /** Which EIP-3009 message was signed. */
    public enum Kind {
        RECEIVE("ReceiveWithAuthorization"),
        TRANSFER("TransferWithAuthorization");

        private final String primaryType;

        Kind(String primaryType) {
            this.primaryType = primaryType;
        }

        public String primaryType() {
            return primaryType;
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String domainName;
    private final String domainVersion;
    private final long chainId;
    private final String tokenAddress;

    public Eip3009(String domainName, String domainVersion, long chainId, String tokenAddress) {
        this.domainName = domainName;
        this.domainVersion = domainVersion;
        this.chainId = chainId;
        this.tokenAddress = tokenAddress;
    }

    public String domainName() {
        return domainName;
    }

    /** The EIP-712 domain separator these signatures are made under; the token's own DOMAIN_SEPARATOR() must match. */
    public String domainSeparator() {
        try {
            ReceiveAuthorization any = new ReceiveAuthorization(tokenAddress, tokenAddress, BigInteger.ONE,
                    BigInteger.ZERO, BigInteger.ZERO, "0x" + "00".repeat(32));
            return Numeric.toHexString(new StructuredDataEncoder(JSON.writeValueAsString(typedData(any, Kind.RECEIVE)))
                    .hashDomain());
        } catch (java.io.IOException e) {
            throw new IllegalStateException("typed data could not be encoded", e);
        }
    }

    public String domainVersion() {
        return domainVersion;
    }

    public byte[] digest(ReceiveAuthorization authorization) {
        return digest(authorization, Kind.RECEIVE);
    }

    public byte[] digest(ReceiveAuthorization authorization, Kind kind) {
        try {
            return new StructuredDataEncoder(JSON.writeValueAsString(typedData(authorization, kind))).hashStructuredData();
        } catch (java.io.IOException e) {
            throw new IllegalStateException("typed data could not be encoded", e);
        }
    }

    /** A 65-byte signature (r ‖ s ‖ v) as 0x-hex. */
    public String sign(ReceiveAuthorization authorization, Credentials signer) {
        return sign(authorization, signer, Kind.RECEIVE);
    }

    public String sign(ReceiveAuthorization authorization, Credentials signer, Kind kind) {
        Sign.SignatureData signature = Sign.signMessage(digest(authorization, kind), signer.getEcKeyPair(), false);
        return Numeric.toHexString(join(signature));
    }

    /** The address that produced this signature over this authorization, checksummed; refuses malformed signatures. */
    public String recoverSigner(ReceiveAuthorization authorization, String signatureHex, Kind kind)
            throws SignatureException {
        Sign.SignatureData signature = split(signatureHex);
        BigInteger publicKey = Sign.signedMessageHashToKey(digest(authorization, kind), signature);
        return Keys.toChecksumAddress(Keys.getAddress(publicKey));
    }

    /**
     * Which message {@code from} signed: the one under which the signature recovers to it, if any. Stock x402 clients
     * sign a transfer; agents following the reservation's own paymentRequirements sign a receive.
     */
    public Optional<Kind> signedBy(ReceiveAuthorization authorization, String signatureHex)
            throws SignatureException {
        for (Kind kind : Kind.values()) {
            if (recoverSigner(authorization, signatureHex, kind).equalsIgnoreCase(authorization.from())) {
                return Optional.of(kind);
            }
        }
        return Optional.empty();
    }

    public static Sign.SignatureData split(String signatureHex) throws SignatureException {
        byte[] bytes;
        try {
            bytes = Numeric.hexStringToByteArray(signatureHex);
        } catch (RuntimeException e) {
            throw new SignatureException("the signature is not hex");
        }
        if (bytes.length != 65) {
            throw new SignatureException("a signature is 65 bytes (r, s, v), got " + bytes.length);
        }
        byte v = bytes[64];
        if (v < 27) {
            v += 27;
        }
        if (v != 27 && v != 28) {
            throw new SignatureException("the signature's v is neither 27 nor 28");
        }
        byte[] r = java.util.Arrays.copyOfRange(bytes, 0, 32);
        byte[] s = java.util.Arrays.copyOfRange(bytes, 32, 64);
        return new Sign.SignatureData(v, r, s);
    }

    private static byte[] join(Sign.SignatureData signature) {
        byte[] joined = new byte[65];
        System.arraycopy(signature.getR(), 0, joined, 0, 32);
        System.arraycopy(signature.getS(), 0, joined, 32, 32);
        joined[64] = signature.getV()[0];
        return joined;
    }

    private Map<String, Object> typedData(ReceiveAuthorization authorization, Kind kind) {
        Map<String, Object> types = new LinkedHashMap<>();
        types.put("EIP712Domain", List.of(field("name", "string"), field("version", "string"),
                field("chainId", "uint256"), field("verifyingContract", "address")));
        types.put(kind.primaryType(), List.of(field("from", "address"), field("to", "address"),
                field("value", "uint256"), field("validAfter", "uint256"), field("validBefore", "uint256"),
                field("nonce", "bytes32")));
        Map<String, Object> domain = new LinkedHashMap<>();
        domain.put("name", domainName);
        domain.put("version", domainVersion);
        domain.put("chainId", chainId);
        domain.put("verifyingContract", tokenAddress);
        Map<String, Object> message = new LinkedHashMap<>();
        message.put("from", authorization.from());
        message.put("to", authorization.to());
        message.put("value", authorization.value().toString());
        message.put("validAfter", authorization.validAfter().toString());
        message.put("validBefore", authorization.validBefore().toString());
        message.put("nonce", authorization.nonce());
        Map<String, Object> typed = new LinkedHashMap<>();
        typed.put("types", types);
        typed.put("primaryType", kind.primaryType());
        typed.put("domain", domain);
        typed.put("message", message);
        return typed;
    }

    private static Map<String, String> field(String name, String type) {
        return Map.of("name", name, "type", type);
    }
}
