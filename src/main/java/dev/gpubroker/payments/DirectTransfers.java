package dev.gpubroker.payments;

import java.math.BigInteger;
import java.util.List;
import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.web3j.abi.EventEncoder;
import org.web3j.abi.TypeReference;
import org.web3j.abi.datatypes.Address;
import org.web3j.abi.datatypes.Event;
import org.web3j.abi.datatypes.generated.Bytes32;
import org.web3j.abi.datatypes.generated.Uint256;
import org.web3j.protocol.core.methods.response.EthLog;
import org.web3j.protocol.core.methods.response.Log;
import org.web3j.protocol.core.methods.response.TransactionReceipt;
import org.web3j.utils.Numeric;
import org.springframework.stereotype.Component;

import dev.gpubroker.payments.chain.ChainContext;
import dev.gpubroker.payments.chain.EscrowContract;
import dev.gpubroker.payments.chain.PaymentChain;
import dev.gpubroker.payments.chain.ReceiveAuthorization;
import reactor.core.publisher.Mono;

/**
 * Finds a stock x402 transfer that somebody submitted straight to the token before the broker could deposit it (a
 * TransferWithAuthorization is valid from anyone): the money is then in the escrow but belongs to no reservation. The
 * broker credits it to the reservation it was sent for (GpuEscrow.creditTransfer) only when the chain shows exactly
 * that: the token's AuthorizationUsed for the payer's nonce, in a transaction that moved {@code value} from the payer to
 * the escrow and in which the escrow recorded no deposit (which would mean the transfer already pays a reservation). A
 * cancelled authorization has no such transaction, so it is never credited. The escrow checks again on its side that
 * enough unattributed money is there, so a mistake here could not spend anybody else's deposit.
 */
@Component
class DirectTransfers {

    private static final Logger log = LoggerFactory.getLogger(DirectTransfers.class);
    static final Event AUTHORIZATION_USED = new Event("AuthorizationUsed", List.of(
            new TypeReference<Address>(true) { }, new TypeReference<Bytes32>(true) { }));
    static final Event TRANSFER = new Event("Transfer", List.of(
            new TypeReference<Address>(true) { }, new TypeReference<Address>(true) { }, new TypeReference<Uint256>() { }));
    private static final String AUTHORIZATION_USED_TOPIC = EventEncoder.encode(AUTHORIZATION_USED);
    private static final String TRANSFER_TOPIC = EventEncoder.encode(TRANSFER);

    /**
     * How far back the token's AuthorizationUsed is looked for: a stock client's authorization is valid for the hold's
     * minutes, so its transfer is recent; public nodes refuse log queries over all of history. 50,000 blocks are more
     * than a day on Base (2 s blocks).
     */
    private static final BigInteger LOOKBACK_BLOCKS = BigInteger.valueOf(50_000);

    private final ChainContext chain;

    DirectTransfers(PaymentChain paymentChain) {
        this.chain = paymentChain.context();
    }

    /**
     * The transaction that moved this authorization's money into the escrow without a deposit, if there is one and the
     * escrow has not credited or returned it since (its own mark, which the transaction's logs cannot show: without it,
     * a transfer credited to one reservation would still look free to credit again or to return).
     */
    Mono<Optional<String>> unattributed(ReceiveAuthorization authorization) {
        return chain.client().call(null, chain.escrowAddress(),
                        EscrowContract.transferCreditedCall(authorization.from(), authorization.nonce()))
                .map(answer -> Numeric.toBigInt(answer).signum() != 0)
                .flatMap(marked -> marked ? Mono.just(Optional.<String>empty()) : transferWithoutDeposit(authorization));
    }

    @SuppressWarnings("rawtypes")
    private Mono<Optional<String>> transferWithoutDeposit(ReceiveAuthorization authorization) {
        return chain.client().blockNumber()
                .flatMap(head -> chain.client().logs(chain.usdc().address(),
                        head.subtract(LOOKBACK_BLOCKS).max(BigInteger.ZERO), List.of(AUTHORIZATION_USED_TOPIC,
                                topic(authorization.from()), authorization.nonce().toLowerCase(java.util.Locale.ROOT))))
                .flatMap(logs -> {
                    if (logs.isEmpty()) {
                        return Mono.just(Optional.<String>empty());
                    }
                    String hash = ((Log) ((EthLog.LogResult) logs.getFirst()).get()).getTransactionHash();
                    return chain.client().receipt(hash).map(receipt -> receipt
                            .filter(found -> movedIntoEscrowWithoutDeposit(found, authorization))
                            .map(TransactionReceipt::getTransactionHash));
                })
                .doOnNext(found -> found.ifPresent(hash -> log.warn("The x402 transfer of {} atomic units from {} "
                        + "(nonce {}) reached the escrow in {}, submitted by someone else: it will be credited to its "
                        + "reservation", authorization.value(), authorization.from(), authorization.nonce(), hash)));
    }

    private boolean movedIntoEscrowWithoutDeposit(TransactionReceipt receipt, ReceiveAuthorization authorization) {
        if (!receipt.isStatusOK()) {
            return false;
        }
        boolean deposited = receipt.getLogs().stream().anyMatch(entry -> entry.getAddress().equalsIgnoreCase(
                chain.escrowAddress()) && !entry.getTopics().isEmpty()
                && entry.getTopics().getFirst().equals(EscrowContract.DEPOSITED_TOPIC));
        boolean transferred = receipt.getLogs().stream().anyMatch(entry -> entry.getAddress().equalsIgnoreCase(
                        chain.usdc().address())
                && entry.getTopics().size() == 3
                && entry.getTopics().get(0).equals(TRANSFER_TOPIC)
                && entry.getTopics().get(1).equalsIgnoreCase(topic(authorization.from()))
                && entry.getTopics().get(2).equalsIgnoreCase(topic(chain.escrowAddress()))
                && Numeric.toBigInt(entry.getData()).equals(authorization.value()));
        return transferred && !deposited;
    }

    private static String topic(String address) {
        return Numeric.toHexStringWithPrefixZeroPadded(Numeric.toBigInt(address), 64);
    }

}
