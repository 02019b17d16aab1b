package dev.gpubroker.contracts;

import java.math.BigInteger;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.List;

import org.web3j.abi.FunctionEncoder;
import org.web3j.abi.datatypes.Address;
import org.web3j.abi.datatypes.Type;
import org.web3j.abi.datatypes.generated.Bytes32;
import org.web3j.abi.datatypes.generated.Uint256;
import org.web3j.abi.datatypes.generated.Uint8;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.Hash;
import org.web3j.crypto.Sign;
import org.web3j.utils.Numeric;

/**
 * EIP-712 hashing and signing written out by hand in Java, independently of the contracts, so that a test comparing
 * the two catches a wrong typehash, field order or domain on either side.
 */
final class Eip712 {

    static final byte[] DOMAIN_TYPEHASH = Hash.sha3(
            "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)".getBytes());
    static final byte[] TRANSFER_WITH_AUTHORIZATION_TYPEHASH = Hash.sha3(
            "TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
                    .getBytes());
    static final byte[] RECEIVE_WITH_AUTHORIZATION_TYPEHASH = Hash.sha3(
            "ReceiveWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
                    .getBytes());
    static final byte[] CANCEL_AUTHORIZATION_TYPEHASH = Hash.sha3(
            "CancelAuthorization(address authorizer,bytes32 nonce)".getBytes());
    static final byte[] PERMIT_TYPEHASH = Hash.sha3(
            "Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)".getBytes());

    private static final SecureRandom RANDOM = new SecureRandom();

    private Eip712() {
    }

    /** A fresh EIP-3009 nonce or reservation id: random, as a real signer would choose. */
    static byte[] randomBytes32() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return bytes;
    }

    /** The domain of USDC on Base ("USD Coin", version "2"), which TestUsdc copies. */
    static byte[] usdcDomainSeparator(long chainId, String tokenAddress) {
        return keccakOfAbiEncoded(new Bytes32(DOMAIN_TYPEHASH), new Bytes32(Hash.sha3("USD Coin".getBytes())),
                new Bytes32(Hash.sha3("2".getBytes())), new Uint256(chainId), new Address(tokenAddress));
    }

    /** keccak256(abi.encode(values...)), the struct hash of EIP-712 for static fields. */
    static byte[] keccakOfAbiEncoded(Type<?>... values) {
        @SuppressWarnings({"rawtypes", "unchecked"})
        String encoded = FunctionEncoder.encodeConstructor((List) Arrays.asList(values));
        return Hash.sha3(Numeric.hexStringToByteArray(encoded));
    }

    /** Signs keccak256(0x1901 ‖ domainSeparator ‖ structHash) with no further prefix. */
    static Signature sign(byte[] domainSeparator, byte[] structHash, Credentials signer) {
        byte[] message = new byte[2 + 32 + 32];
        message[0] = 0x19;
        message[1] = 0x01;
        System.arraycopy(domainSeparator, 0, message, 2, 32);
        System.arraycopy(structHash, 0, message, 34, 32);
        Sign.SignatureData signature = Sign.signMessage(Hash.sha3(message), signer.getEcKeyPair(), false);
        return new Signature(new Uint8(Byte.toUnsignedInt(signature.getV()[0])), new Bytes32(signature.getR()),
                new Bytes32(signature.getS()));
    }

    /** An EIP-3009 authorization's fields, in typehash order. */
    record Authorization(String from, String to, BigInteger value, BigInteger validAfter, BigInteger validBefore,
            byte[] nonce) {

        Signature sign(byte[] typehash, byte[] domainSeparator, Credentials signer) {
            byte[] structHash = keccakOfAbiEncoded(new Bytes32(typehash), new Address(from), new Address(to),
                    new Uint256(value), new Uint256(validAfter), new Uint256(validBefore), new Bytes32(nonce));
            return Eip712.sign(domainSeparator, structHash, signer);
        }
    }

    /** A signature split the way the contracts take it. */
    record Signature(Uint8 v, Bytes32 r, Bytes32 s) {
    }
}
