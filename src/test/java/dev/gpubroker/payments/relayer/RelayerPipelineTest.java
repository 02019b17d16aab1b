package dev.gpubroker.payments.relayer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.LongStream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.TestPropertySource;
import org.springframework.transaction.reactive.TransactionalOperator;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.methods.response.TransactionReceipt;
import org.web3j.protocol.http.HttpService;

import dev.gpubroker.payments.chain.ChainContext;
import dev.gpubroker.payments.chain.PaymentChain;
import dev.gpubroker.payments.chain.TokenContract;
import dev.gpubroker.support.BrokerIntegrationTest;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The relayer on a chain that mines a block every second, as a real chain does: a burst of submissions goes out
 * together, many to a block, and a submission refused in the middle of it (by the gas estimate, or by the node once
 * its nonce was taken) leaves no gap that would hold the others back.
 */
@TestPropertySource(properties = "gpubroker.chain.embedded-block-time=1s")
class RelayerPipelineTest extends BrokerIntegrationTest {

    private static final Duration WAIT = Duration.ofSeconds(60);

    @Autowired
    PaymentChain paymentChain;

    @Autowired
    Relayer relayer;

    @Autowired
    ChainTransactionRepository transactions;

    @Autowired
    TransactionalOperator transaction;

    @Autowired
    Clock clock;

    private ChainContext chain;
    private Web3j web3j;

    @BeforeEach
    void chain() {
        chain = paymentChain.context();
        web3j = Web3j.build(new HttpService(chain.client().url()));
    }

    @AfterEach
    void closeChain() {
        web3j.shutdown();
    }

    @Test
    void burstsAndLoneSubmissionsInTurnAreEachAnsweredAndSentOnceInNonceOrder() throws Exception {
        long firstNonce = chainNonce();
        String harmless = TokenContract.transfer(relayer.address(), BigInteger.ZERO);

        // Bursts of 1 to 25 with pauses from none to longer than a batch takes: a submission that arrives while a
        // batch is stored, right after one was drained, or alone, is taken up in its turn, never left waiting.
        List<ChainTransaction> sent = new ArrayList<>();
        int[] bursts = {1, 25, 1, 1, 12, 3, 25, 1, 7, 2};
        int[] pausesMillis = {0, 5, 0, 40, 1, 0, 120, 2, 0, 30};
        List<Mono<ChainTransaction>> waiting = new ArrayList<>();
        int index = 0;
        for (int burst = 0; burst < bursts.length; burst++) {
            for (int i = 0; i < bursts[burst]; i++) {
                waiting.add(relayer.submit("probe", "turns-" + index++, chain.usdc().address(), harmless).cache());
                waiting.getLast().subscribe(ignored -> { }, ignored -> { });
            }
            Thread.sleep(pausesMillis[burst]);
        }
        for (Mono<ChainTransaction> answer : waiting) {
            sent.add(answer.block(Duration.ofSeconds(20)));
        }

        assertThat(sent).hasSize(78);
        assertThat(sent.stream().map(ChainTransaction::nonce).toList()).as("nonces in submission order")
                .containsExactlyElementsOf(LongStream.range(firstNonce, firstNonce + 78).boxed().toList());
        awaitConfirmed(sent);
        assertThat(chainNonce()).isEqualTo(firstNonce + 78);
    }

    @Test
    void aBurstGoesOutManyToABlockAndCallsThatWouldRevertTakeNoNonce() throws Exception {
        long firstNonce = chainNonce();
        String harmless = TokenContract.transfer(relayer.address(), BigInteger.ZERO);
        // The relayer holds no test USDC: a transfer of some reverts, so its gas estimate does.
        String reverting = TokenContract.transfer(relayer.address(), BigInteger.valueOf(1_000_000));

        List<Object> answers = Flux.range(0, 40)
                .flatMap(i -> relayer.submit("probe", "burst-" + i, chain.usdc().address(), i % 20 == 7 ? reverting : harmless)
                        .<Object>map(sent -> sent)
                        .onErrorResume(RelayerRefusedException.class, refused -> Mono.just(refused)), 40)
                .collectList()
                .block(WAIT);

        List<ChainTransaction> sent = answers.stream().filter(ChainTransaction.class::isInstance)
                .map(ChainTransaction.class::cast).toList();
        assertThat(answers).filteredOn(RelayerRefusedException.class::isInstance).hasSize(2)
                .allSatisfy(refused -> assertThat(((Exception) refused).getMessage()).contains("revert"));
        assertThat(sent).hasSize(38);
        awaitConfirmed(sent);
        assertThat(chainNonces(sent)).as("every nonce once, none skipped for the refused calls")
                .containsExactlyElementsOf(LongStream.range(firstNonce, firstNonce + 38).boxed().toList());
        assertThat(chainNonce()).isEqualTo(firstNonce + 38);
        Map<BigInteger, Integer> perBlock = perBlock(sent);
        assertThat(perBlock.values()).as("transactions per block: %s", perBlock).anySatisfy(count -> assertThat(count)
                .isGreaterThan(1));
        assertThat(perBlock).as("38 transactions in a few 1-second blocks, not one block each").hasSizeLessThan(10);
    }

    @Test
    void aNonceTheNodeRefusedUnderTransactionsAlreadySentIsTakenByTheNextSubmissionAndEveryoneIsMined()
            throws Exception {
        long firstNonce = chainNonce();
        String call = TokenContract.transfer(relayer.address(), BigInteger.ZERO);
        List<ChainTransaction> before = burst("before", 10, call);
        // Fees the relayer's 100 test ETH cannot cover (a million gas at a million gwei): the node refuses it once its
        // nonce was handed out, as it would a transaction whose fees went stale.
        ChainTransaction doomed = new RelayerNonces(transactions, transaction, clock).signAtNextNonce(relayer.address(),
                firstNonce, new RelayerNonces.Signing("probe", "doomed", nonce -> relayer.sign("probe", "doomed",
                        chain.usdc().address(), call, nonce, BigInteger.valueOf(1_000_000), BigInteger.TEN.pow(15),
                        BigInteger.ONE, null))).map(Relayed::transaction).block(WAIT);
        // Sent while the doomed nonce below them is not: the node holds them until it is filled.
        List<ChainTransaction> above = burst("above", 10, call);
        assertThat(above).allSatisfy(sent -> assertThat(sent.nonce()).isGreaterThan(doomed.nonce()));

        assertThat(relayer.broadcastFirst(doomed).block(WAIT)).isInstanceOf(Relayer.FirstBroadcast.Refused.class);
        List<ChainTransaction> after = burst("after", 10, call);

        List<ChainTransaction> all = new ArrayList<>(before);
        all.addAll(above);
        all.addAll(after);
        awaitConfirmed(all);
        assertThat(after).as("the refused nonce went to the next submission").extracting(ChainTransaction::nonce)
                .contains(doomed.nonce());
        assertThat(chainNonces(all)).containsExactlyElementsOf(LongStream.range(firstNonce, firstNonce + 30).boxed()
                .toList());
        assertThat(chainNonce()).as("no filler was needed").isEqualTo(firstNonce + 30);
        assertThat(transactions.findByHash(doomed.hash()).block(WAIT).status()).isEqualTo(ChainTransaction.Status.REJECTED);
    }

    private List<ChainTransaction> burst(String name, int count, String call) {
        return Flux.range(0, count)
                .flatMap(i -> relayer.submit("probe", name + "-" + i, chain.usdc().address(), call), count)
                .collectList()
                .block(WAIT);
    }

    private void awaitConfirmed(List<ChainTransaction> sent) throws InterruptedException {
        RelayerOnChain.awaitConfirmed(transactions, sent, WAIT, chain.client());
    }

    private Map<BigInteger, Integer> perBlock(List<ChainTransaction> sent) throws IOException {
        Map<BigInteger, Integer> counts = new TreeMap<>();
        for (ChainTransaction transaction : sent) {
            TransactionReceipt receipt = web3j.ethGetTransactionReceipt(transaction.hash()).send().getTransactionReceipt()
                    .orElseThrow();
            assertThat(receipt.isStatusOK()).isTrue();
            counts.merge(receipt.getBlockNumber(), 1, Integer::sum);
        }
        return counts;
    }

    private List<Long> chainNonces(List<ChainTransaction> sent) throws IOException {
        return RelayerOnChain.chainNonces(web3j, sent);
    }

    private long chainNonce() throws IOException {
        return RelayerOnChain.chainNonce(web3j, relayer.address());
    }
}
