package dev.gpubroker.payments.chain;

import java.math.BigInteger;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.DefaultBlockParameter;
import org.web3j.protocol.core.DefaultBlockParameterName;
import org.web3j.protocol.core.Response;
import org.web3j.protocol.core.methods.request.EthFilter;
import org.web3j.protocol.core.methods.request.Transaction;
import org.web3j.protocol.core.methods.response.EthLog;
import org.web3j.protocol.core.methods.response.TransactionReceipt;
import org.web3j.protocol.http.HttpService;

import reactor.core.publisher.Mono;

/**
 * The JSON-RPC calls the server makes, each non-blocking (web3j's async client) and bounded by a timeout.
 * A JSON-RPC error answer becomes a {@link ChainRpcException} carrying the node's message.
 */
public final class ChainClient implements AutoCloseable {

    private final HttpService service;
    private final Web3j web3j;
    private final Duration timeout;
    private final String url;

    public ChainClient(String url, Duration timeout) {
        this.url = url;
        this.service = new HttpService(url);
        this.web3j = Web3j.build(service);
        this.timeout = timeout;
    }

    public String url() {
        return url;
    }

    /** For start-up checks, before anything reactive runs: blocks on the node's answer. */
    public long chainIdAtStartup() throws java.io.IOException {
        return web3j.ethChainId().send().getChainId().longValueExact();
    }

    /** For start-up checks: whether contract code exists at this address. */
    public boolean hasCodeAtStartup(String address) throws java.io.IOException {
        String code = web3j.ethGetCode(address, DefaultBlockParameterName.LATEST).send().getCode();
        return code != null && code.length() > 2;
    }

    /** For start-up checks: the operator of a GpuEscrow ({@code operator()}), 0x-prefixed. */
    public String escrowOperatorAtStartup(String escrow) throws java.io.IOException {
        var answer = web3j.ethCall(Transaction.createEthCallTransaction(null, escrow, EscrowContract.operatorCall()),
                DefaultBlockParameterName.LATEST).send();
        if (answer.hasError() || answer.isReverted() || answer.getValue() == null || answer.getValue().length() < 66) {
            throw new ChainRpcException("the escrow " + escrow + " did not answer operator()"
                    + (answer.hasError() ? ": " + answer.getError().getMessage() : ""));
        }
        return "0x" + answer.getValue().substring(answer.getValue().length() - 40);
    }

    /**
     * For start-up checks: whether the escrow takes stock x402 transfers (GpuEscrow v2's depositTransfer). An escrow
     * deployed before has no version() and reverts.
     */
    public boolean escrowTakesTransfersAtStartup(String escrow) throws java.io.IOException {
        var answer = web3j.ethCall(Transaction.createEthCallTransaction(null, escrow, EscrowContract.versionCall()),
                DefaultBlockParameterName.LATEST).send();
        if (answer.hasError() || answer.isReverted() || answer.getValue() == null || answer.getValue().length() < 66) {
            return false;
        }
        return org.web3j.utils.Numeric.toBigInt(answer.getValue()).compareTo(EscrowContract.TRANSFER_DEPOSITS_VERSION) >= 0;
    }

    /** For start-up checks: the token's EIP-712 DOMAIN_SEPARATOR(), or empty when it has none. */
    public Optional<String> domainSeparatorAtStartup(String token) throws java.io.IOException {
        var answer = web3j.ethCall(Transaction.createEthCallTransaction(null, token, TokenContract.domainSeparatorCall()),
                DefaultBlockParameterName.LATEST).send();
        if (answer.hasError() || answer.isReverted() || answer.getValue() == null || answer.getValue().length() != 66) {
            return Optional.empty();
        }
        return Optional.of(answer.getValue());
    }

    /** For start-up checks: the ether balance of an account, in wei. */
    public BigInteger etherBalanceAtStartup(String address) throws java.io.IOException {
        return web3j.ethGetBalance(address, DefaultBlockParameterName.LATEST).send().getBalance();
    }

    public Mono<Long> chainId() {
        return call(() -> web3j.ethChainId().sendAsync()).map(response -> response.getChainId().longValueExact());
    }

    public Mono<BigInteger> blockNumber() {
        return call(() -> web3j.ethBlockNumber().sendAsync()).map(response -> response.getBlockNumber());
    }

    public Mono<String> code(String address) {
        return call(() -> web3j.ethGetCode(address, DefaultBlockParameterName.LATEST).sendAsync()).map(response -> response.getCode());
    }

    public Mono<BigInteger> etherBalance(String address) {
        return call(() -> web3j.ethGetBalance(address, DefaultBlockParameterName.LATEST).sendAsync())
                .map(response -> response.getBalance());
    }

    /** The next nonce of an account including its pending transactions. */
    public Mono<BigInteger> pendingNonce(String address) {
        return call(() -> web3j.ethGetTransactionCount(address, DefaultBlockParameterName.PENDING).sendAsync())
                .map(response -> response.getTransactionCount());
    }

    public Mono<String> call(String from, String to, String data) {
        return call(() -> web3j.ethCall(Transaction.createEthCallTransaction(from, to, data), DefaultBlockParameterName.LATEST)
                .sendAsync())
                .flatMap(response -> response.isReverted()
                        ? Mono.error(new ChainRpcException("execution reverted: " + response.getRevertReason()))
                        : Mono.just(response.getValue()));
    }

    public Mono<BigInteger> estimateGas(String from, String to, String data) {
        return call(() -> web3j.ethEstimateGas(Transaction.createFunctionCallTransaction(from, null, null, null, to, data))
                .sendAsync()).map(response -> response.getAmountUsed());
    }

    public Mono<BigInteger> gasPrice() {
        return call(() -> web3j.ethGasPrice().sendAsync()).map(response -> response.getGasPrice());
    }

    public Mono<BigInteger> maxPriorityFeePerGas() {
        return call(() -> web3j.ethMaxPriorityFeePerGas().sendAsync()).map(response -> response.getMaxPriorityFeePerGas())
                .onErrorResume(ChainRpcException.class, unsupported -> Mono.just(BigInteger.valueOf(1_000_000_000L)));
    }

    /** Broadcasts a signed transaction; answers its hash. */
    public Mono<String> sendRawTransaction(String signedHex) {
        return call(() -> web3j.ethSendRawTransaction(signedHex).sendAsync()).map(response -> response.getTransactionHash());
    }

    public Mono<Optional<TransactionReceipt>> receipt(String transactionHash) {
        return call(() -> web3j.ethGetTransactionReceipt(transactionHash).sendAsync())
                .map(response -> response.getTransactionReceipt());
    }

    /** The receipts of every transaction in a block, in one call ({@code eth_getBlockReceipts}); empty for no block. */
    public Mono<List<TransactionReceipt>> blockReceipts(BigInteger block) {
        return call(() -> web3j.ethGetBlockReceipts(DefaultBlockParameter.valueOf(block)).sendAsync())
                .map(response -> response.getBlockReceipts().orElse(List.of()));
    }

    @SuppressWarnings("rawtypes")
    public Mono<List<EthLog.LogResult>> logs(String address, BigInteger fromBlock, BigInteger toBlock) {
        EthFilter filter = new EthFilter(DefaultBlockParameter.valueOf(fromBlock), DefaultBlockParameter.valueOf(toBlock), address);
        return call(() -> web3j.ethGetLogs(filter).sendAsync()).map(response -> response.getLogs());
    }

    /** The logs of one contract whose first two topics are these (an event and its first indexed value). */
    @SuppressWarnings("rawtypes")
    public Mono<List<EthLog.LogResult>> logs(String address, String eventTopic, String firstIndexedTopic) {
        EthFilter filter = new EthFilter(DefaultBlockParameterName.EARLIEST, DefaultBlockParameterName.LATEST, address);
        filter.addSingleTopic(eventTopic);
        filter.addSingleTopic(firstIndexedTopic);
        return call(() -> web3j.ethGetLogs(filter).sendAsync()).map(response -> response.getLogs());
    }

    /**
     * The logs of one contract since {@code fromBlock} whose first topics are these, in order (an event and its indexed
     * values).
     */
    @SuppressWarnings("rawtypes")
    public Mono<List<EthLog.LogResult>> logs(String address, BigInteger fromBlock, List<String> topics) {
        EthFilter filter = new EthFilter(DefaultBlockParameter.valueOf(fromBlock), DefaultBlockParameterName.LATEST,
                address);
        topics.forEach(filter::addSingleTopic);
        return call(() -> web3j.ethGetLogs(filter).sendAsync()).map(response -> response.getLogs());
    }

    /** A raw JSON-RPC call for methods web3j has no wrapper for (anvil's dev methods). */
    public Mono<Object> raw(String method, List<?> params) {
        return call(() -> new org.web3j.protocol.core.Request<>(method, params, service, RawResponse.class).sendAsync())
                .map(response -> response.getResult() == null ? "" : response.getResult());
    }

    public static final class RawResponse extends Response<Object> {
    }

    private <T extends Response<?>> Mono<T> call(Supplier<CompletableFuture<T>> request) {
        return Mono.fromFuture(request, true)
                .timeout(timeout)
                .flatMap(response -> response.hasError()
                        ? Mono.error(new ChainRpcException(response.getError().getMessage()))
                        : Mono.just(response));
    }

    @Override
    public void close() {
        web3j.shutdown();
    }
}
