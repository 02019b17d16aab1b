package dev.gpubroker.payments.relayer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.r2dbc.connection.R2dbcTransactionManager;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.transaction.reactive.TransactionalOperator;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.methods.response.TransactionReceipt;
import org.web3j.protocol.http.HttpService;

import dev.gpubroker.config.BrokerProperties;
import dev.gpubroker.payments.chain.ChainClient;
import dev.gpubroker.payments.chain.ChainContext;
import dev.gpubroker.payments.chain.ChainHead;
import dev.gpubroker.payments.chain.PaymentChain;
import dev.gpubroker.payments.chain.TokenContract;
import dev.gpubroker.platform.database.DatabaseConfiguration;
import dev.gpubroker.support.BrokerIntegrationTest;
import io.r2dbc.pool.ConnectionPool;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * Two broker instances on one relayer account, one database and one chain: the server under test, and a second
 * instance beside it with its own connection pool (opened the way a second server opens the database), its own
 * RPC client, its own relayer lane and its own tracker. Everything they share is what two servers would share.
 */
@Import(RelayerInstancesTest.Probes.class)
class RelayerInstancesTest extends BrokerIntegrationTest {

    private static final Duration WAIT = Duration.ofSeconds(60);

    @Autowired
    PaymentChain paymentChain;

    @Autowired
    Relayer relayer;

    @Autowired
    ChainTransactionRepository transactions;

    @Autowired
    BrokerProperties properties;

    @Autowired
    Scheduler embeddedDatabaseThreads;

    @Autowired
    Clock clock;

    @Autowired
    ProbeOutcomes outcomes;

    private ChainContext chain;
    private ConnectionPool secondPool;
    private ChainClient secondClient;
    private ChainTransactionRepository secondTransactions;
    private TransactionalOperator secondTransaction;
    private Relayer second;
    private TransactionTracker secondTracker;
    private Web3j web3j;

    @BeforeEach
    void secondInstance() throws Exception {
        chain = paymentChain.context();
        secondPool = new DatabaseConfiguration().connectionPool(properties, embeddedDatabaseThreads);
        secondClient = new ChainClient(chain.client().url(), Duration.ofSeconds(10));
        ChainContext secondChain = new ChainContext(secondClient, chain.chainId(), chain.usdc(), chain.usdcAuthorizations(),
                chain.escrowAddress(), chain.payeeAddress(), chain.relayer(), chain.confirmations());
        secondTransactions = new ChainTransactionRepository(DatabaseClient.create(secondPool));
        secondTransaction = TransactionalOperator.create(new R2dbcTransactionManager(secondPool));
        second = new Relayer(secondChain, secondTransactions, secondTransaction, clock);
        secondTracker = new TransactionTracker(secondChain, secondTransactions, second, List.of(outcomes), clock,
                properties.chain().receiptTimeout(), properties.chain().feeBumpPercent(), new ChainHead());
        web3j = Web3j.build(new HttpService(chain.client().url()));
        outcomes.clear();
    }

    @AfterEach
    void stopSecondInstance() {
        secondTracker.stop();
        second.stop();
        secondPool.dispose();
        secondClient.close();
        web3j.shutdown();
    }

    @Test
    void twoInstancesSubmittingAtOnceUseEveryNonceOnceAndRecordEachOutcomeOnce() throws Exception {
        second.start();
        secondTracker.start();
        long firstNonce = chainNonce();

        List<ChainTransaction> submitted = Flux.range(0, 200)
                .flatMap(i -> (i % 2 == 0 ? relayer : second).submit(ProbeOutcomes.PURPOSE, "both-" + i,
                        chain.usdc().address(), TokenContract.transfer(relayer.address(), BigInteger.ZERO)), 32)
                .collectList()
                .block(WAIT);

        assertThat(submitted).hasSize(200);
        // Each submission's mined transaction: itself, or the tracker's replacement at its nonce (see awaitConfirmed).
        List<ChainTransaction> mined = awaitConfirmed(submitted);
        assertThat(chainNonces(mined)).as("read from the chain: every nonce once, none skipped")
                .containsExactlyElementsOf(LongStream.range(firstNonce, firstNonce + 200).boxed().toList());
        assertThat(chainNonce()).isEqualTo(firstNonce + 200);
        for (ChainTransaction sent : mined) {
            assertThat(receipt(sent.hash()).isStatusOK()).isTrue();
        }
        // Both trackers followed all 200; each outcome was recorded by one of them, once.
        assertThat(outcomes.confirmations()).hasSize(200);
        assertThat(outcomes.confirmations().values()).allSatisfy(count -> assertThat(count.get()).isEqualTo(1));
        assertThat(outcomes.confirmations().keySet())
                .containsExactlyInAnyOrderElementsOf(mined.stream().map(ChainTransaction::hash).toList());
        assertThat(outcomes.failures()).isEmpty();
    }

    /**
     * What keeps a settlement or a refund to one transaction: two instances (and two callers on each) that both looked
     * and found nothing live, then submit the same purpose for the same reference at once, sign one transaction between
     * them. Before the relayer looked again under its nonce lock, each of the four signed its own (TwoInstancesIT saw
     * two settle transactions for one reservation; the escrow reverted the second).
     */
    @Test
    void twoInstancesSubmittingTheSamePurposeForTheSameReferenceAtOnceSignOneTransaction() throws Exception {
        second.start();
        secondTracker.start();
        String call = TokenContract.transfer(relayer.address(), BigInteger.ZERO);

        List<Relayed> answers = Flux.range(0, 80)
                .flatMap(i -> (i % 2 == 0 ? relayer : second).relay(ProbeOutcomes.PURPOSE, "once-" + (i / 4),
                        chain.usdc().address(), call), 32)
                .collectList()
                .block(WAIT);

        Map<String, List<Relayed>> byReference = new TreeMap<>();
        answers.forEach(answer -> byReference.computeIfAbsent(answer.transaction().referenceId(),
                reference -> new ArrayList<>()).add(answer));
        assertThat(byReference).hasSize(20);
        byReference.forEach((reference, four) -> {
            assertThat(four).hasSize(4);
            assertThat(four).extracting(answer -> answer.transaction().hash()).as("every caller of %s answered the "
                    + "one transaction", reference).containsOnly(four.getFirst().transaction().hash());
            assertThat(four).filteredOn(Relayed.Submitted.class::isInstance).as("signed by one of them").hasSize(1);
            assertThat(transactions.findByReference(reference).collectList().block(WAIT)).as("stored once")
                    .hasSize(1);
        });
        awaitConfirmed(answers.stream().filter(Relayed.Submitted.class::isInstance).map(Relayed::transaction).toList());
        assertThat(outcomes.confirmations()).as("twenty transactions mined, each recorded once").hasSize(20);
    }

    @Test
    void theTransactionsAnInstanceSignedAndNeverSentBeforeItDiedAreSentByTheOther() throws Exception {
        long firstNonce = chainNonce();
        String call = TokenContract.transfer(relayer.address(), BigInteger.ZERO);

        // The second instance signs and commits, and dies before it broadcasts (no lane, no tracker: nothing of it
        // sends), while the server keeps submitting through its own lane.
        List<ChainTransaction> orphans = new ArrayList<>();
        List<ChainTransaction> submitted = Flux.range(0, 40)
                .flatMap(i -> i % 4 == 0
                        ? second.signAndStore(ProbeOutcomes.PURPOSE, "orphan-" + i, chain.usdc().address(), call)
                                .doOnNext(orphan -> {
                                    synchronized (orphans) {
                                        orphans.add(orphan);
                                    }
                                })
                        : relayer.submit(ProbeOutcomes.PURPOSE, "live-" + i, chain.usdc().address(), call), 8)
                .collectList()
                .block(WAIT);
        secondPool.dispose();

        assertThat(orphans).hasSize(10);
        for (ChainTransaction orphan : orphans) {
            assertThat(web3j.ethGetTransactionByHash(orphan.hash()).send().getTransaction())
                    .as("not sent by the instance that signed it").isEmpty();
        }
        awaitConfirmed(submitted);
        for (ChainTransaction orphan : orphans) {
            assertThat(receipt(orphan.hash()).isStatusOK()).as("mined as the very bytes it signed").isTrue();
        }
        List<ChainTransaction> resent = Flux.fromIterable(orphans).flatMap(orphan -> transactions.findByHash(orphan.hash()))
                .sort(Comparator.comparingLong(ChainTransaction::nonce)).collectList().block(WAIT);
        assertThat(resent).extracting(ChainTransaction::broadcastAt)
                .as("sent again lowest nonce first, one after another (a node can stall on nonces out of order)")
                .doesNotContainNull().isSortedAccordingTo(Comparator.naturalOrder());
        assertThat(chainNonces(submitted))
                .containsExactlyElementsOf(LongStream.range(firstNonce, firstNonce + 40).boxed().toList());
        assertThat(outcomes.confirmations()).hasSize(40);
    }

    @Test
    void aNonceTheNodeRefusedBelowAnotherInstancesNonceIsFilledSoTheTransactionAboveIsMined() throws Exception {
        long firstNonce = chainNonce();
        String call = TokenContract.transfer(relayer.address(), BigInteger.ZERO);
        RelayerNonces secondNonces = new RelayerNonces(secondTransactions, secondTransaction, clock);
        // Fees the relayer's 100 test ETH cannot cover (a million gas at a million gwei): a node refuses it on
        // broadcast ("insufficient funds"), after its nonce was handed out.
        BigInteger maxFee = BigInteger.TEN.pow(15);
        ChainTransaction doomed = secondNonces.signAtNextNonce(relayer.address(), firstNonce,
                new RelayerNonces.Signing(ProbeOutcomes.PURPOSE, "doomed", nonce -> second.sign(ProbeOutcomes.PURPOSE,
                        "doomed", chain.usdc().address(), call, nonce, BigInteger.valueOf(1_000_000), maxFee,
                        BigInteger.ONE, null))).map(Relayed::transaction).block(WAIT);
        ChainTransaction above = relayer.submit(ProbeOutcomes.PURPOSE, "above", chain.usdc().address(), call).block(WAIT);
        assertThat(above.nonce()).isEqualTo(doomed.nonce() + 1);

        assertThat(second.broadcastFirst(doomed).block(WAIT)).isInstanceOf(Relayer.FirstBroadcast.Refused.class);

        awaitConfirmed(List.of(above));
        assertThat(transactions.findByHash(doomed.hash()).block(WAIT).status()).isEqualTo(ChainTransaction.Status.REJECTED);
        assertThat(web3j.ethGetTransactionByHash(doomed.hash()).send().getTransaction()).isEmpty();
        List<ChainTransaction> atTheGap = transactions.findByNonce(relayer.address(), doomed.nonce()).collectList().block(WAIT);
        assertThat(atTheGap).filteredOn(sent -> sent.status() == ChainTransaction.Status.CONFIRMED)
                .singleElement()
                .satisfies(filler -> {
                    assertThat(filler.purpose()).isEqualTo(Relayer.GAP_FILL_PURPOSE);
                    assertThat(filler.to()).isEqualTo(relayer.address());
                });
        assertThat(chainNonce()).isEqualTo(firstNonce + 2);
    }

    @Test
    void anOutcomeClaimedByAnInstanceThatDiedIsRecordedOnceByAnotherWhenItsLeaseRunsOut() throws Exception {
        String call = TokenContract.transfer(relayer.address(), BigInteger.ZERO);
        ChainTransaction signed = second.signAndStore(ProbeOutcomes.PURPOSE, "claimed-then-died", chain.usdc().address(),
                call).block(WAIT);
        // The second instance's tracker claims the outcome (as it does on seeing the receipt), and the instance dies
        // before it records it: the row stays open under a lease nobody will finish.
        Instant claimedAt = clock.instant();
        Instant leaseUntil = claimedAt.plusSeconds(4).truncatedTo(ChronoUnit.MILLIS);
        assertThat(secondTransactions.claimOutcome(signed.hash(), claimedAt, leaseUntil).block(WAIT)).isTrue();
        assertThat(second.broadcastFirst(signed).block(WAIT)).isInstanceOf(Relayer.FirstBroadcast.Sent.class);
        secondPool.dispose();

        while (web3j.ethGetTransactionReceipt(signed.hash()).send().getTransactionReceipt().isEmpty()) {
            Thread.sleep(100);
        }
        Thread.sleep(Math.max(0, Duration.between(clock.instant(), leaseUntil).minusMillis(700).toMillis()));
        assertThat(outcomes.confirmations()).as("mined, but the lease is another instance's until it runs out")
                .doesNotContainKey(signed.hash());
        assertThat(transactions.findByHash(signed.hash()).block(WAIT).status()).isNotEqualTo(ChainTransaction.Status.CONFIRMED);

        awaitConfirmed(List.of(signed));
        assertThat(clock.instant()).isAfterOrEqualTo(leaseUntil);
        assertThat(outcomes.confirmations().get(signed.hash())).as("recorded by the server's tracker, once")
                .hasValue(1);
        assertThat(outcomes.failures()).isEmpty();
    }

    private List<ChainTransaction> awaitConfirmed(List<ChainTransaction> sent) throws InterruptedException {
        return RelayerOnChain.awaitConfirmed(transactions, sent, WAIT, chain.client());
    }

    private List<Long> chainNonces(List<ChainTransaction> sent) throws IOException {
        return RelayerOnChain.chainNonces(web3j, sent);
    }

    private long chainNonce() throws IOException {
        return RelayerOnChain.chainNonce(web3j, relayer.address());
    }

    private TransactionReceipt receipt(String hash) throws IOException {
        return web3j.ethGetTransactionReceipt(hash).send().getTransactionReceipt().orElseThrow();
    }

    /** Counts the outcomes recorded per transaction, across both instances' trackers. */
    static final class ProbeOutcomes implements TransactionOutcomeListener {

        static final String PURPOSE = "probe";
        private final Map<String, AtomicInteger> confirmations = new ConcurrentHashMap<>();
        private final Set<String> failures = ConcurrentHashMap.newKeySet();

        @Override
        public Set<String> purposes() {
            return Set.of(PURPOSE);
        }

        @Override
        public Mono<Void> onConfirmed(ChainTransaction transaction, TransactionReceipt receipt) {
            // A little time inside the listener, as a real one spends in its database transaction: the window in
            // which a second tracker that saw the same receipt would record it again.
            return Mono.delay(Duration.ofMillis(20))
                    .doOnNext(tick -> confirmations.computeIfAbsent(transaction.hash(), hash -> new AtomicInteger())
                            .incrementAndGet())
                    .then();
        }

        @Override
        public Mono<Void> onFailed(ChainTransaction transaction, String reason) {
            failures.add(transaction.hash());
            return Mono.empty();
        }

        Set<String> failures() {
            return failures;
        }

        Map<String, AtomicInteger> confirmations() {
            return confirmations;
        }

        void clear() {
            confirmations.clear();
            failures.clear();
        }
    }

    @TestConfiguration(proxyBeanMethods = false)
    static class Probes {

        @Bean
        ProbeOutcomes probeOutcomes() {
            return new ProbeOutcomes();
        }
    }
}
