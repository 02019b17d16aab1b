package dev.gpubroker.platform.idempotency;

import java.util.Objects;
import java.util.function.Function;
import java.util.function.Supplier;

import org.springframework.dao.DataIntegrityViolationException;

import reactor.core.publisher.Mono;

/**
 * One call of a command that is idempotent by key. The command's own row claims the key (a unique index on the
 * caller and the key), so:
 * <ul>
 * <li>a key already used answers what the call that used it did, through {@code replay}, which also refuses a reuse
 * with other arguments: nothing is done a second time;</li>
 * <li>a new key runs the command once;</li>
 * <li>two calls racing with one key: the loser's insert breaks the unique index, and it answers what the winner
 * did; a broken index that is not the key's (nothing holds the key) stays an error.</li>
 * </ul>
 * A command that finds, inside its own transaction, that something else took what it wanted (its claim lost) asks
 * {@link #replayed()} first: the taker may be a retry of this very call.
 *
 * @param <R> the stored record that holds the key (a reservation, a payment, a job)
 * @param <O> the command's outcome
 */
public final class IdempotentCommand<R, O> {

    private final Supplier<Mono<R>> recorded;
    private final Function<R, O> replay;

    private IdempotentCommand(Supplier<Mono<R>> recorded, Function<R, O> replay) {
        this.recorded = Objects.requireNonNull(recorded, "recorded");
        this.replay = Objects.requireNonNull(replay, "replay");
    }

    /**
     * @param recorded the record that holds this caller's key, or empty (read anew on every subscription)
     * @param replay   what a call with this key answers, given the record that holds it: its earlier outcome, or a
     *                 refusal when this call's arguments are not the ones the key was used with
     */
    public static <R, O> IdempotentCommand<R, O> keyedBy(Supplier<Mono<R>> recorded, Function<R, O> replay) {
        return new IdempotentCommand<>(recorded, replay);
    }

    /** The earlier call's answer when the key is used, else {@code firstTime}'s, run at most once by this call. */
    public Mono<O> run(Supplier<Mono<O>> firstTime) {
        return replayed()
                .switchIfEmpty(Mono.defer(firstTime))
                .onErrorResume(DataIntegrityViolationException.class, raced -> replayed().switchIfEmpty(Mono.error(raced)));
    }

    /** What the call that holds the key answers; empty while no call holds it. */
    public Mono<O> replayed() {
        return Mono.defer(recorded).map(replay);
    }
}
