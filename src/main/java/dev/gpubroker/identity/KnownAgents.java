package dev.gpubroker.identity;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Agents as recently read from the database, so that the key check every request makes, and the look-up of the caller
 * every tool call makes, are not each a database read.
 *
 * <p>By key hash: an entry is trusted for {@link #KEY_TTL}. A key rotated through this server stops working at once
 * ({@link #forgetKeysOf}); one rotated through another server sharing the database keeps working here for at most
 * that long. Unknown keys are never kept: a flood of wrong keys cannot fill this, and each still costs one read. The
 * key itself is never held, only its hash.
 *
 * <p>By agent id: an agent's record never changes once created (only its key hash does, which the record does not
 * carry), so it is kept as long as there is room.
 *
 * <p>Both are bounded ({@link #ENTRIES_MAX}): when one is full, its expired entries go, and if none has, all of them
 * (they come back from the database on the next requests).
 */
final class KnownAgents {

    static final Duration KEY_TTL = Duration.ofSeconds(10);
    static final int ENTRIES_MAX = 10_000;

    private record Recognised(Agent agent, long expiresAtNanos) {
    }

    private final Map<String, Recognised> byKeyHash = new ConcurrentHashMap<>();
    private final Map<String, Agent> byId = new ConcurrentHashMap<>();
    private final AtomicLong rotations = new AtomicLong();

    /** The agent whose key has this hash, when read recently enough; else null. */
    Agent byKeyHash(String keyHash) {
        Recognised recognised = byKeyHash.get(keyHash);
        if (recognised == null) {
            return null;
        }
        if (System.nanoTime() - recognised.expiresAtNanos() > 0) {
            byKeyHash.remove(keyHash, recognised);
            return null;
        }
        return recognised.agent();
    }

    Agent byId(String agentId) {
        return byId.get(agentId);
    }

    /** A count that moves with every rotation: read it before the database, hand it to {@link #rememberKey}. */
    long rotations() {
        return rotations.get();
    }

    /**
     * Keeps what the database said of a key hash, read when {@link #rotations()} was {@code rotationsBefore}. When a
     * key was rotated meanwhile the entry is dropped again: the read may predate the rotation.
     */
    void rememberKey(String keyHash, Agent agent, long rotationsBefore) {
        if (byKeyHash.size() >= ENTRIES_MAX) {
            long now = System.nanoTime();
            byKeyHash.values().removeIf(recognised -> now - recognised.expiresAtNanos() > 0);
            if (byKeyHash.size() >= ENTRIES_MAX) {
                byKeyHash.clear();
            }
        }
        Recognised recognised = new Recognised(agent, System.nanoTime() + KEY_TTL.toNanos());
        byKeyHash.put(keyHash, recognised);
        if (rotations.get() != rotationsBefore) {
            byKeyHash.remove(keyHash, recognised);
        }
        remember(agent);
    }

    void remember(Agent agent) {
        if (byId.size() >= ENTRIES_MAX) {
            byId.clear();
        }
        byId.put(agent.agentId(), agent);
    }

    /** After the agent's key changed: none of its old keys is recognised any more. */
    void forgetKeysOf(String agentId) {
        rotations.incrementAndGet();
        byKeyHash.values().removeIf(recognised -> recognised.agent().agentId().equals(agentId));
    }
}
