package dev.gpubroker.platform.database;

import java.time.Duration;
import java.util.function.Supplier;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

import io.micrometer.core.instrument.Counter;
import reactor.core.publisher.Mono;

/**
 * Answers a read from memory while nothing it depends on can have changed: the answer is kept with the stamp of the
 * tables it was read from ({@link TableChanges}), taken before the read began, and given again only while the stamp is
 * the same and the answer younger than the expiry. A write of this instance that finished before a call began is
 * therefore always seen by that call; another instance's write, or time itself (a rolling window, a hold that expired),
 * shows within the expiry. An empty read (nothing found) is not kept. For what is shown, never for a decision about
 * money: those read the database, under their locks.
 */
public final class ReadThroughCache<K, V> {

    private final TableChanges.Watch watch;
    /** Null when the expiry is zero: every read goes to the database. */
    private final Cache<K, Stamped<V>> answers;
    private final Counter hits;
    private final Counter misses;

    ReadThroughCache(TableChanges.Watch watch, Duration expiry, int maxEntries, Counter hits, Counter misses) {
        this.watch = watch;
        this.answers = expiry.isPositive()
                ? Caffeine.newBuilder().expireAfterWrite(expiry).maximumSize(maxEntries).build() : null;
        this.hits = hits;
        this.misses = misses;
    }

    /** The answer for {@code key}: the one kept while still current, else {@code read}'s (kept when nothing moved). */
    public Mono<V> read(K key, Supplier<Mono<V>> read) {
        if (answers == null) {
            return Mono.defer(read);
        }
        return Mono.defer(() -> {
            long stamp = watch.stamp();
            Stamped<V> kept = answers.getIfPresent(key);
            if (kept != null && kept.stamp() == stamp) {
                hits.increment();
                return Mono.just(kept.value());
            }
            misses.increment();
            return read.get().doOnNext(value -> {
                // A write that may have landed while it was read makes the answer unfit to keep (it may predate it).
                if (watch.stamp() == stamp) {
                    answers.put(key, new Stamped<>(stamp, value));
                }
            });
        });
    }

    private record Stamped<V>(long stamp, V value) {
    }
}
