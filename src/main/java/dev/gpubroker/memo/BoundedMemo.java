package dev.gpubroker.memo;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Results kept while they are asked for again, at most {@code capacity} of them: a put that finds the memo full drops
 * every entry first. For the hot path's small memos (a polled tool's last answer, arguments found valid, a read's audit
 * JSON), where what a Caffeine read adds to the map lookup (its read buffer, its expiry clock) cost a microsecond or two
 * a call (HotPathBenchmark's recording), and where losing every entry at once costs no more than working them out again.
 * Concurrent puts may overshoot the capacity by their number, no more.
 */
public final class BoundedMemo<K, V> {

    private final int capacity;
    private final ConcurrentHashMap<K, V> entries = new ConcurrentHashMap<>();

    public BoundedMemo(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("a memo keeps at least one entry, not " + capacity);
        }
        this.capacity = capacity;
    }

    /** The kept value, or null. */
    public V get(K key) {
        return entries.get(key);
    }

    public void put(K key, V value) {
        if (entries.size() >= capacity && !entries.containsKey(key)) {
            entries.clear();
        }
        entries.put(key, value);
    }

    int size() {
        return entries.size();
    }
}
