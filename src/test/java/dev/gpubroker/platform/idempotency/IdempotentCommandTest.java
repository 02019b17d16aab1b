package dev.gpubroker.platform.idempotency;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.springframework.dao.DataIntegrityViolationException;

import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** The one idempotency skeleton of reserve, pay and run (each also tested end to end through its tool). */
class IdempotentCommandTest {

    /** A stored row holding a key, with the arguments its call was made with. */
    private record Row(String key, String arguments, String outcome) {
    }

    private final AtomicReference<Row> table = new AtomicReference<>();
    private final AtomicInteger ranFirstTime = new AtomicInteger();

    private IdempotentCommand<Row, String> call(String arguments) {
        return IdempotentCommand.keyedBy(() -> Mono.justOrEmpty(table.get()),
                row -> row.arguments().equals(arguments) ? row.outcome() + " (replayed)" : "refused: key reused");
    }

    private Mono<String> store(String arguments) {
        return Mono.fromSupplier(() -> {
            ranFirstTime.incrementAndGet();
            table.set(new Row("key-1", arguments, "done " + arguments));
            return "done " + arguments;
        });
    }

    @Test
    void aNewKeyRunsTheCommandOnce() {
        StepVerifier.create(call("a").run(() -> store("a"))).expectNext("done a").verifyComplete();
        assertThat(ranFirstTime).hasValue(1);
    }

    @Test
    void aUsedKeyAnswersTheEarlierOutcomeWithoutRunningAgain() {
        call("a").run(() -> store("a")).block();

        StepVerifier.create(call("a").run(() -> store("a"))).expectNext("done a (replayed)").verifyComplete();
        assertThat(ranFirstTime).as("nothing is done a second time").hasValue(1);
    }

    @Test
    void aUsedKeyWithOtherArgumentsIsRefusedAndChangesNothing() {
        call("a").run(() -> store("a")).block();

        StepVerifier.create(call("b").run(() -> store("b"))).expectNext("refused: key reused").verifyComplete();
        assertThat(table.get().arguments()).isEqualTo("a");
        assertThat(ranFirstTime).hasValue(1);
    }

    @Test
    void theLoserOfARaceOnTheKeyAnswersWhatTheWinnerDid() {
        // Both calls found no row; the winner stored it first, so the loser's insert breaks the unique index.
        Mono<String> loser = Mono.defer(() -> {
            table.set(new Row("key-1", "a", "done a"));
            return Mono.error(new DataIntegrityViolationException("duplicate key (agent, idempotency_key)"));
        });

        StepVerifier.create(call("a").run(() -> loser)).expectNext("done a (replayed)").verifyComplete();
    }

    @Test
    void aBrokenIndexThatIsNotTheKeysStaysAnError() {
        Mono<String> other = Mono.error(new DataIntegrityViolationException("duplicate key (reservation_id)"));

        StepVerifier.create(call("a").run(() -> other)).expectError(DataIntegrityViolationException.class).verify();
    }

    @Test
    void otherFailuresAreNotTakenForARace() {
        table.set(null);
        Mono<String> failing = Mono.error(new IllegalStateException("the node is down"));

        StepVerifier.create(call("a").run(() -> failing)).expectError(IllegalStateException.class).verify();
    }

    @Test
    void aLostClaimAsksWhoHoldsTheKeyFirst() {
        IdempotentCommand<Row, String> command = call("a");
        StepVerifier.create(command.replayed()).verifyComplete();

        table.set(new Row("key-1", "a", "done a"));
        StepVerifier.create(command.replayed()).expectNext("done a (replayed)").verifyComplete();
    }
}
