package dev.gpubroker.payments.chain;

import java.math.BigInteger;
import java.util.List;

import org.web3j.abi.FunctionEncoder;
import org.web3j.abi.FunctionReturnDecoder;
import org.web3j.abi.TypeReference;
import org.web3j.abi.datatypes.Address;
import org.web3j.abi.datatypes.Bool;
import org.web3j.abi.datatypes.Function;
import org.web3j.abi.datatypes.Type;
import org.web3j.abi.datatypes.generated.Bytes32;
import org.web3j.abi.datatypes.generated.Uint256;
import org.web3j.utils.Numeric;

import reactor.core.publisher.Mono;

/** Read calls on a USDC-like token (ERC-20 + EIP-3009), and the dev token's mint. */
public final class TokenContract {

    private final ChainClient chain;
    private final String address;

    public TokenContract(ChainClient chain, String address) {
        this.chain = chain;
        this.address = address;
    }

    public String address() {
        return address;
    }

    public Mono<BigInteger> balanceOf(String owner) {
        Function function = new Function("balanceOf", List.of(new Address(owner)), List.of(new TypeReference<Uint256>() { }));
        return chain.call(null, address, FunctionEncoder.encode(function))
                .map(result -> (BigInteger) decode(result, function).getFirst().getValue());
    }

    /** Whether an EIP-3009 nonce of this authorizer is used or cancelled. */
    public Mono<Boolean> authorizationUsed(String authorizer, String nonce) {
        Function function = new Function("authorizationState", List.of(new Address(authorizer),
                new Bytes32(Numeric.hexStringToByteArray(nonce))), List.of(new TypeReference<Bool>() { }));
        return chain.call(null, address, FunctionEncoder.encode(function))
                .map(result -> (Boolean) decode(result, function).getFirst().getValue());
    }

    public static String domainSeparatorCall() {
        return FunctionEncoder.encode(new Function("DOMAIN_SEPARATOR", List.of(), List.of(new TypeReference<Bytes32>() { })));
    }

    public static String mint(String to, BigInteger amount) {
        return FunctionEncoder.encode(new Function("mint", List.of(new Address(to), new Uint256(amount)), List.of()));
    }

    public static String transfer(String to, BigInteger amount) {
        return FunctionEncoder.encode(new Function("transfer", List.of(new Address(to), new Uint256(amount)), List.of()));
    }

    @SuppressWarnings("rawtypes")
    private static List<Type> decode(String result, Function function) {
        return FunctionReturnDecoder.decode(result, function.getOutputParameters());
    }
}
