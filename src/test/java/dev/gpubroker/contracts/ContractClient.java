package dev.gpubroker.contracts;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import org.web3j.abi.FunctionEncoder;
import org.web3j.abi.FunctionReturnDecoder;
import org.web3j.abi.TypeReference;
import org.web3j.abi.datatypes.Address;
import org.web3j.abi.datatypes.Function;
import org.web3j.abi.datatypes.Type;
import org.web3j.abi.datatypes.generated.Bytes32;
import org.web3j.abi.datatypes.generated.Uint256;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.Hash;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.DefaultBlockParameterName;
import org.web3j.protocol.core.Request;
import org.web3j.protocol.core.Response;
import org.web3j.protocol.core.methods.request.Transaction;
import org.web3j.protocol.core.methods.response.EthCall;
import org.web3j.protocol.core.methods.response.EthSendTransaction;
import org.web3j.protocol.core.methods.response.Log;
import org.web3j.protocol.core.methods.response.TransactionReceipt;
import org.web3j.protocol.exceptions.TransactionException;
import org.web3j.protocol.http.HttpService;
import org.web3j.tx.RawTransactionManager;
import org.web3j.tx.response.PollingTransactionReceiptProcessor;
import org.web3j.utils.Numeric;

import dev.gpubroker.support.AnvilNode;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Deploys the committed contract artifacts on an anvil chain and talks to them with raw web3j ABI encoding, the way
 * the server will. Every transaction is sent with a fixed gas limit so that a reverting call is mined (instead of
 * failing gas estimation) and its receipt status and revert reason can be checked.
 */
final class ContractClient {

    static final List<String> ARTIFACTS = List.of("TestUsdc", "GpuEscrow");

    private static final BigInteger GAS_LIMIT = BigInteger.valueOf(1_000_000);
    private static final BigInteger DEPLOY_GAS_LIMIT = BigInteger.valueOf(5_000_000);
    private static final String ERROR_STRING_SELECTOR = "0x08c379a0";
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final Web3j web3j;
    private final HttpService http;
    private final Map<String, CustomError> customErrors = new HashMap<>();

    ContractClient(AnvilNode node) {
        this.web3j = node.web3j();
        this.http = node.http();
        ARTIFACTS.forEach(name -> artifact(name).path("abi").forEach(this::rememberCustomError));
    }

    /** Deploys {@code artifactName} with ABI-encoded constructor arguments; the receipt says whether it worked. */
    Sent deploy(Credentials from, String artifactName, Type<?>... constructorArguments) throws IOException {
        String bytecode = artifact(artifactName).path("bytecode").asString();
        @SuppressWarnings({"rawtypes", "unchecked"})
        String data = bytecode + FunctionEncoder.encodeConstructor((List) Arrays.asList(constructorArguments));
        return send(from, null, data, DEPLOY_GAS_LIMIT);
    }

    /** Deploys {@code artifactName} and returns its address, failing loudly if the deployment reverted. */
    String deployed(Credentials from, String artifactName, Type<?>... constructorArguments) throws IOException {
        Sent sent = deploy(from, artifactName, constructorArguments);
        if (!sent.succeeded()) {
            throw new IllegalStateException(artifactName + " deployment reverted: " + sent.revertReason());
        }
        return sent.receipt().getContractAddress();
    }

    Sent send(Credentials from, String contract, String functionName, Type<?>... inputs) throws IOException {
        return send(from, contract, FunctionEncoder.encode(function(functionName, List.of(inputs), List.of())),
                GAS_LIMIT);
    }

    /** Sends call data built elsewhere, such as by the server's own encoders in {@code EscrowContract}. */
    Sent sendData(Credentials from, String contract, String callData) throws IOException {
        return send(from, contract, callData, GAS_LIMIT);
    }

    /** A read-only call; fails if it reverts. */
    List<Type> call(String contract, String functionName, List<Type<?>> inputs, List<TypeReference<?>> outputs)
            throws IOException {
        Function function = function(functionName, inputs, outputs);
        EthCall result = web3j.ethCall(
                Transaction.createEthCallTransaction(null, contract, FunctionEncoder.encode(function)),
                DefaultBlockParameterName.LATEST).send();
        if (result.hasError() || result.isReverted()) {
            throw new IllegalStateException(functionName + " reverted: " + result.getRevertReason());
        }
        return FunctionReturnDecoder.decode(result.getValue(), function.getOutputParameters());
    }

    /** A read-only call of call data built elsewhere; returns the raw answer, fails if it reverts. */
    String callData(String contract, String callData) throws IOException {
        EthCall result = web3j.ethCall(Transaction.createEthCallTransaction(null, contract, callData),
                DefaultBlockParameterName.LATEST).send();
        if (result.hasError() || result.isReverted()) {
            throw new IllegalStateException(callData + " reverted: " + result.getRevertReason());
        }
        return result.getValue();
    }

    BigInteger callUint(String contract, String functionName, Type<?>... inputs) throws IOException {
        return (BigInteger) call(contract, functionName, List.of(inputs), List.of(new TypeReference<Uint256>() {}))
                .getFirst().getValue();
    }

    byte[] callBytes32(String contract, String functionName, Type<?>... inputs) throws IOException {
        return (byte[]) call(contract, functionName, List.of(inputs), List.of(new TypeReference<Bytes32>() {}))
                .getFirst().getValue();
    }

    String callAddress(String contract, String functionName, Type<?>... inputs) throws IOException {
        return (String) call(contract, functionName, List.of(inputs), List.of(new TypeReference<Address>() {}))
                .getFirst().getValue();
    }

    BigInteger balanceOf(String token, String account) throws IOException {
        return callUint(token, "balanceOf", new Address(account));
    }

    /** The timestamp of the latest block: the clock deadlines and validity windows are measured against. */
    long latestTimestamp() throws IOException {
        return web3j.ethGetBlockByNumber(DefaultBlockParameterName.LATEST, false).send().getBlock().getTimestamp()
                .longValueExact();
    }

    private Sent send(Credentials from, String to, String data, BigInteger gasLimit) throws IOException {
        RawTransactionManager transactions = new RawTransactionManager(web3j, from, AnvilNode.CHAIN_ID);
        BigInteger gasPrice = web3j.ethGasPrice().send().getGasPrice();
        EthSendTransaction sent = transactions.sendTransaction(gasPrice, gasLimit, to, data, BigInteger.ZERO,
                to == null);
        if (sent.hasError()) {
            throw new IOException("the node refused the transaction: " + sent.getError().getMessage());
        }
        TransactionReceipt receipt;
        try {
            // Anvil mines on arrival; the bound only guards against a stuck node.
            receipt = new PollingTransactionReceiptProcessor(web3j, 20, 250)
                    .waitForTransactionReceipt(sent.getTransactionHash());
        } catch (TransactionException e) {
            throw new IOException(e);
        }
        String revertReason = receipt.isStatusOK() ? null : revertReason(receipt.getTransactionHash());
        return new Sent(receipt, revertReason);
    }

    /** Replays the mined transaction with anvil's call tracer, which returns the exact revert data. */
    private String revertReason(String transactionHash) throws IOException {
        TraceResponse trace = new Request<>("debug_traceTransaction",
                List.<Object>of(transactionHash, Map.of("tracer", "callTracer")), http, TraceResponse.class).send();
        if (trace.hasError()) {
            throw new IOException("debug_traceTransaction failed: " + trace.getError().getMessage());
        }
        Object output = trace.getResult().get("output");
        return decodeRevert(output == null ? "0x" : output.toString());
    }

    /** Error(string) becomes its message; a custom error becomes {@code Name(arg, ...)} with decoded arguments. */
    private String decodeRevert(String data) {
        if (data.length() < 10) {
            return "(no revert data)";
        }
        String selector = data.substring(0, 10);
        String arguments = "0x" + data.substring(10);
        if (selector.equals(ERROR_STRING_SELECTOR)) {
            return (String) FunctionReturnDecoder.decode(arguments, List.of(typeReference("string"))).getFirst()
                    .getValue();
        }
        CustomError error = customErrors.get(selector);
        if (error == null) {
            return "(unknown revert " + data + ")";
        }
        List<Type> values = FunctionReturnDecoder.decode(arguments, error.inputs());
        return error.name() + values.stream().map(ContractClient::format).collect(Collectors.joining(", ", "(", ")"));
    }

    static String format(Type<?> value) {
        return value.getValue() instanceof byte[] bytes ? Numeric.toHexString(bytes) : value.getValue().toString();
    }

    private void rememberCustomError(JsonNode entry) {
        if (!entry.path("type").asString().equals("error")) {
            return;
        }
        List<String> types = new ArrayList<>();
        List<TypeReference<Type>> inputs = new ArrayList<>();
        for (JsonNode input : entry.path("inputs")) {
            types.add(input.path("type").asString());
            inputs.add(typeReference(input.path("type").asString()));
        }
        String signature = entry.path("name").asString() + "(" + String.join(",", types) + ")";
        String selector = Hash.sha3String(signature).substring(0, 10);
        customErrors.put(selector, new CustomError(entry.path("name").asString(), inputs));
    }

    @SuppressWarnings("unchecked")
    private static TypeReference<Type> typeReference(String solidityType) {
        try {
            return (TypeReference<Type>) (TypeReference<?>) TypeReference.makeTypeReference(solidityType);
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("no web3j type for " + solidityType, e);
        }
    }

    @SuppressWarnings({"rawtypes", "unchecked"})
    private static Function function(String name, List<? extends Type<?>> inputs, List<TypeReference<?>> outputs) {
        return new Function(name, (List) inputs, (List) outputs);
    }

    static JsonNode artifact(String name) {
        try (InputStream in = ContractClient.class.getResourceAsStream("/contracts/" + name + ".json")) {
            if (in == null) {
                throw new IllegalStateException("no contracts/" + name + ".json on the classpath");
            }
            return JSON.readTree(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private record CustomError(String name, List<TypeReference<Type>> inputs) {
    }

    /** A mined transaction. Web3j does not look at the receipt status; {@link #succeeded()} does. */
    record Sent(TransactionReceipt receipt, String revertReason) {

        boolean succeeded() {
            return receipt.isStatusOK();
        }

        long gasUsed() {
            return receipt.getGasUsed().longValueExact();
        }

        /** The logs {@code emitter} wrote for the event with this canonical signature, e.g. {@code Settled(bytes32,uint256,uint256)}. */
        List<Log> logs(String emitter, String eventSignature) {
            String topic = Hash.sha3String(eventSignature);
            return receipt.getLogs().stream()
                    .filter(log -> log.getAddress().equalsIgnoreCase(emitter))
                    .filter(log -> !log.getTopics().isEmpty() && log.getTopics().getFirst().equalsIgnoreCase(topic))
                    .toList();
        }
    }

    public static final class TraceResponse extends Response<Map<String, Object>> {
    }
}
