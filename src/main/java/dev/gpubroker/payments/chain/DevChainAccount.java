package dev.gpubroker.payments.chain;

import java.io.IOException;
import java.math.BigInteger;
import java.time.Duration;
import java.util.Optional;

import org.web3j.crypto.Credentials;
import org.web3j.crypto.RawTransaction;
import org.web3j.crypto.TransactionEncoder;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.DefaultBlockParameterName;
import org.web3j.protocol.core.methods.response.EthSendTransaction;
import org.web3j.protocol.core.methods.response.TransactionReceipt;
import org.web3j.protocol.http.HttpService;
import org.web3j.utils.Numeric;

/**
 * anvil's funded first account, used on the embedded development chain only: to deploy the contracts, to give the
 * relayer test ETH and to mint test USDC. Its calls block; they run at start-up and on bounded-elastic threads.
 */
public final class DevChainAccount implements AutoCloseable {

    private static final BigInteger GAS_LIMIT_MAX = BigInteger.valueOf(6_000_000);
    private static final Duration RECEIPT_WAIT = Duration.ofSeconds(30);

    private final Web3j web3j;
    private final Credentials credentials;
    private final long chainId;

    public DevChainAccount(String rpcUrl, long chainId) {
        this.web3j = Web3j.build(new HttpService(rpcUrl));
        this.credentials = Credentials.create(EmbeddedAnvil.DEV_FUNDER_PRIVATE_KEY);
        this.chainId = chainId;
    }

    public String address() {
        return credentials.getAddress();
    }

    /** Deploys and answers the new contract's address. */
    public synchronized String deploy(String bytecodeWithConstructorArguments) throws IOException, InterruptedException {
        TransactionReceipt receipt = send(null, BigInteger.ZERO, bytecodeWithConstructorArguments);
        return receipt.getContractAddress();
    }

    public synchronized TransactionReceipt call(String to, String data) throws IOException, InterruptedException {
        return send(to, BigInteger.ZERO, data);
    }

    public synchronized TransactionReceipt sendEther(String to, BigInteger wei) throws IOException, InterruptedException {
        return send(to, wei, "0x");
    }

    private TransactionReceipt send(String to, BigInteger value, String data) throws IOException, InterruptedException {
        BigInteger nonce = web3j.ethGetTransactionCount(address(), DefaultBlockParameterName.PENDING).send().getTransactionCount();
        BigInteger gasPrice = web3j.ethGasPrice().send().getGasPrice();
        RawTransaction transaction = RawTransaction.createTransaction(chainId, nonce, GAS_LIMIT_MAX, to == null ? "" : to,
                value, data, BigInteger.ONE, gasPrice.multiply(BigInteger.TWO).add(BigInteger.ONE));
        String signed = Numeric.toHexString(TransactionEncoder.signMessage(transaction, credentials));
        EthSendTransaction sent = web3j.ethSendRawTransaction(signed).send();
        if (sent.hasError()) {
            throw new IOException("dev chain transaction refused: " + sent.getError().getMessage());
        }
        long deadline = System.nanoTime() + RECEIPT_WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            Optional<TransactionReceipt> receipt = web3j.ethGetTransactionReceipt(sent.getTransactionHash()).send()
                    .getTransactionReceipt();
            if (receipt.isPresent()) {
                if (!receipt.get().isStatusOK()) {
                    throw new IOException("dev chain transaction " + sent.getTransactionHash() + " reverted");
                }
                return receipt.get();
            }
            Thread.sleep(50);
        }
        throw new IOException("no receipt for dev chain transaction " + sent.getTransactionHash() + " within " + RECEIPT_WAIT);
    }

    @Override
    public void close() {
        web3j.shutdown();
    }
}
