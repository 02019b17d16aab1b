package dev.gpubroker.payments.relayer;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.stream.IntStream;
import java.util.stream.LongStream;

import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.r2dbc.connection.R2dbcTransactionManager;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.transaction.reactive.TransactionalOperator;
import org.web3j.crypto.Hash;

import io.r2dbc.h2.H2ConnectionConfiguration;
import io.r2dbc.h2.H2ConnectionFactory;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/**
 * The nonce rules, one each, against a real database that two "instances" share (two connection pools on one H2
 * database, each with its own transactions), without a chain: signing is a stand-in that records the nonce.
 */
class RelayerNoncesTest {

    private static final String RELAYER = "0x1111111111111111111111111111111111111111";
    private static final Duration WAIT = Duration.ofSeconds(30);

    private final Clock clock = Clock.systemUTC();
    private String databaseName;
    private ConnectionPool firstPool;
    private ConnectionPool secondPool;
    private RelayerNonces first;
    private RelayerNonces second;
    private ChainTransactionRepository transactions;

    @BeforeEach
    void twoInstancesOnOneDatabase() {
        databaseName = "nonces-" + UUID.randomUUID();
        Flyway.configure().dataSource("jdbc:h2:mem:" + databaseName + ";DB_CLOSE_DELAY=-1", "sa", "")
                .locations("classpath:db/migration").load().migrate();
        firstPool = pool();
        secondPool = pool();
        transactions = new ChainTransactionRepository(DatabaseClient.create(firstPool));
        first = nonces(firstPool);
        second = nonces(secondPool);
    }

    /**
     * The pools first, then the database: shutting the database down under the pools' idle connections made a pool's
     * disposal fail now and then (reactor-pool counted the failed close of a dead connection's permit twice).
     */
    @AfterEach
    void closeDatabase() throws SQLException {
        firstPool.dispose();
        secondPool.dispose();
        try (var connection = DriverManager.getConnection("jdbc:h2:mem:" + databaseName, "sa", "");
                var statement = connection.createStatement()) {
            statement.execute("SHUTDOWN");
        }
    }

    @Test
    void twoInstancesAllocatingAtOnceHandOutEveryNonceExactlyOnce() {
        List<Long> handedOut = Flux.range(0, 200)
                .flatMap(i -> allocate(i % 2 == 0 ? first : second, 0).subscribeOn(Schedulers.boundedElastic()), 16)
                .map(ChainTransaction::nonce)
                .collectSortedList()
                .block(WAIT);

        assertThat(handedOut).containsExactlyElementsOf(LongStream.range(0, 200).boxed().toList());
        assertThat(counter()).isEqualTo(200);
    }

    @Test
    void aBatchTakesTheFreeNoncesFirstThenTheCounterAndBatchesOfTwoInstancesNeverShareANonce() {
        List<ChainTransaction> signed = Flux.range(0, 4).concatMap(i -> allocate(first, 0)).collectList().block(WAIT);
        release(second, signed.get(1));

        List<Long> batch = first.signAtNextNonces(RELAYER, 0, signings(3))
                .block(WAIT).stream().map(relayed -> relayed.transaction().nonce()).toList();

        assertThat(batch).as("the free nonce first, then the counter's, in order").containsExactly(1L, 4L, 5L);
        assertThat(free()).isEmpty();
        assertThat(counter()).isEqualTo(6);
        assertThat(batch.stream().map(nonce -> DatabaseClient.create(firstPool)
                        .sql("SELECT COUNT(*) AS n FROM chain_transactions WHERE nonce = :n AND status = 'SIGNED'")
                        .bind("n", nonce).map(row -> row.get("n", Number.class).longValue()).one().block(WAIT)).toList())
                .as("each stored, committed").containsOnly(1L);

        List<Long> raced = Flux.range(0, 20)
                .flatMap(i -> (i % 2 == 0 ? first : second).signAtNextNonces(RELAYER, 0,
                                signings(5))
                        .subscribeOn(Schedulers.boundedElastic()), 8)
                .flatMapIterable(stored -> stored)
                .map(relayed -> relayed.transaction().nonce())
                .collectSortedList()
                .block(WAIT);
        assertThat(raced).containsExactlyElementsOf(LongStream.range(6, 106).boxed().toList());
        assertThat(counter()).isEqualTo(106);
    }

    @Test
    void aCallWhoseReferenceHasALiveTransactionOfItsPurposeIsAnsweredThatOneAndTakesNoNonce() {
        List<Relayed> batch = first.signAtNextNonces(RELAYER, 0,
                List.of(signing("reservation-1"), signing("reservation-1"), signing("reservation-2"))).block(WAIT);

        assertThat(batch.get(0)).isInstanceOf(Relayed.Submitted.class);
        assertThat(batch.get(1)).as("the same reference later in the same batch").isInstanceOf(Relayed.AlreadyLive.class);
        assertThat(batch.get(1).transaction().hash()).isEqualTo(batch.get(0).transaction().hash());
        assertThat(batch.get(2)).isInstanceOf(Relayed.Submitted.class);
        assertThat(counter()).isEqualTo(2);

        Relayed elsewhere = second.signAtNextNonce(RELAYER, 0, signing("reservation-1")).block(WAIT);
        assertThat(elsewhere).as("another instance, after the first committed").isInstanceOf(Relayed.AlreadyLive.class);
        assertThat(elsewhere.transaction().hash()).isEqualTo(batch.get(0).transaction().hash());
        assertThat(counter()).isEqualTo(2);

        release(first, batch.get(0).transaction());
        Relayed afterRefusal = second.signAtNextNonce(RELAYER, 0, signing("reservation-1")).block(WAIT);
        assertThat(afterRefusal).as("a refused transaction is not live: the call is signed again")
                .isInstanceOf(Relayed.Submitted.class);
        assertThat(afterRefusal.transaction().nonce()).as("at the nonce the refusal freed").isZero();
    }

    @Test
    void aBatchAfterTheChainMovedAheadStartsAtTheChainsPendingNonce() {
        allocate(first, 0).block(WAIT);

        List<Long> batch = second.signAtNextNonces(RELAYER, 7, signings(2)).block(WAIT).stream()
                .map(relayed -> relayed.transaction().nonce()).toList();

        assertThat(batch).containsExactly(7L, 8L);
        assertThat(counter()).isEqualTo(9);
    }

    @Test
    void aNonceRefusedBelowAnotherInstancesNonceGoesToTheNextSubmissionOfAnyInstance() {
        ChainTransaction refused = allocate(first, 0).block(WAIT);
        ChainTransaction above = allocate(second, 0).block(WAIT);
        assertThat(above.nonce()).isEqualTo(refused.nonce() + 1);

        StepVerifier.create(first.release(refused, "max fee per gas less than block base fee")).expectNext(true)
                .verifyComplete();

        assertThat(counter()).as("the counter cannot come back over the other instance's nonce").isEqualTo(2);
        assertThat(allocate(second, 0).block(WAIT).nonce()).as("the refused nonce, not a gap").isEqualTo(0);
        assertThat(allocate(first, 0).block(WAIT).nonce()).isEqualTo(2);
        assertThat(status(refused)).isEqualTo("REJECTED");
    }

    @Test
    void theLastNonceRefusedTakesTheCounterBackOverTheFreeNoncesBelowIt() {
        List<ChainTransaction> signed = Flux.range(0, 4).concatMap(i -> allocate(first, 0)).collectList().block(WAIT);
        release(second, signed.get(1));
        release(second, signed.get(2));
        assertThat(counter()).isEqualTo(4);

        release(first, signed.get(3));

        assertThat(counter()).as("3 came back, and 2 and 1 with it").isEqualTo(1);
        assertThat(free()).isEmpty();
        assertThat(allocate(second, 0).block(WAIT).nonce()).isEqualTo(1);
    }

    @Test
    void aRefusalAfterAnotherInstanceSentTheSameBytesFreesNothing() {
        ChainTransaction signed = allocate(first, 0).block(WAIT);
        // The other instance's tracker broadcast these bytes before this instance's own broadcast was refused.
        transactions.markBroadcast(signed.hash(), clock.instant()).block(WAIT);

        StepVerifier.create(first.release(signed, "insufficient funds for gas")).expectNext(false).verifyComplete();

        assertThat(status(signed)).isEqualTo("BROADCAST");
        assertThat(free()).isEmpty();
        assertThat(allocate(second, 0).block(WAIT).nonce()).isEqualTo(1);
    }

    @Test
    void aChainAheadOfTheCounterIsSkippedToAndAChainBehindItNeverTakesTheCounterBack() {
        assertThat(allocate(first, 5).block(WAIT).nonce()).isEqualTo(5);
        assertThat(allocate(second, 0).block(WAIT).nonce()).isEqualTo(6);
        assertThat(allocate(first, 9).block(WAIT).nonce()).isEqualTo(9);
        assertThat(counter()).isEqualTo(10);
    }

    @Test
    void aFreeNonceIsFilledOnceWhenTwoFillersRaceForIt() {
        ChainTransaction refused = allocate(first, 0).block(WAIT);
        allocate(second, 0).block(WAIT);
        release(first, refused);
        List<Long> waiting = first.freedBefore(RELAYER, Instant.now().plusSeconds(1), 10).collectList().block(WAIT);
        assertThat(waiting).containsExactly(0L);

        List<ChainTransaction> fillers = Flux.merge(
                        first.signAtFreeNonce(RELAYER, 0, nonce -> signed(nonce)).subscribeOn(Schedulers.boundedElastic()),
                        second.signAtFreeNonce(RELAYER, 0, nonce -> signed(nonce)).subscribeOn(Schedulers.boundedElastic()))
                .collectList().block(WAIT);

        assertThat(fillers).hasSize(1);
        assertThat(fillers.getFirst().nonce()).isZero();
        assertThat(free()).isEmpty();
    }

    private Mono<ChainTransaction> allocate(RelayerNonces instance, long chainPendingNonce) {
        return instance.signAtNextNonce(RELAYER, chainPendingNonce, signing("probe-" + UUID.randomUUID()))
                .map(Relayed::transaction);
    }

    /** {@code count} calls, each for a reference of its own. */
    private List<RelayerNonces.Signing> signings(int count) {
        return IntStream.range(0, count).mapToObj(i -> signing("probe-" + UUID.randomUUID())).toList();
    }

    private RelayerNonces.Signing signing(String reference) {
        return new RelayerNonces.Signing("probe", reference, nonce -> signed(nonce, reference));
    }

    private void release(RelayerNonces instance, ChainTransaction refused) {
        assertThat(instance.release(refused, "refused").block(WAIT)).isTrue();
    }

    /** A stand-in for a signature: a unique hash, the nonce it was given. */
    private ChainTransaction signed(long nonce) {
        return signed(nonce, "probe-" + UUID.randomUUID());
    }

    private ChainTransaction signed(long nonce, String reference) {
        String raw = "0x" + UUID.randomUUID().toString().replace("-", "");
        return new ChainTransaction(Hash.sha3(raw), RELAYER, nonce, "probe", reference, RELAYER, "0x", 21_000,
                BigInteger.TWO, BigInteger.ONE, raw, ChainTransaction.Status.SIGNED, null, null, clock.instant());
    }

    private long counter() {
        return DatabaseClient.create(firstPool).sql("SELECT next_nonce FROM relayer_nonces WHERE address = :a")
                .bind("a", RELAYER).map(row -> row.get("next_nonce", Number.class).longValue()).one().block(WAIT);
    }

    private List<Long> free() {
        return transactions.freeNonces(RELAYER, 100).collectList().block(WAIT);
    }

    private String status(ChainTransaction transaction) {
        return transactions.findByHash(transaction.hash()).block(WAIT).status().name();
    }

    private RelayerNonces nonces(ConnectionPool pool) {
        return new RelayerNonces(new ChainTransactionRepository(DatabaseClient.create(pool)),
                TransactionalOperator.create(new R2dbcTransactionManager(pool)), clock);
    }

    private ConnectionPool pool() {
        H2ConnectionConfiguration configuration = H2ConnectionConfiguration.builder().inMemory(databaseName)
                .username("sa").option("DB_CLOSE_DELAY=-1").option("LOCK_TIMEOUT=10000").build();
        return new ConnectionPool(ConnectionPoolConfiguration.builder(new H2ConnectionFactory(configuration))
                .maxSize(8).build());
    }
}
