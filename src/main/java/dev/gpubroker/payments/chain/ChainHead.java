package dev.gpubroker.payments.chain;

import java.math.BigInteger;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicReference;

import org.springframework.stereotype.Component;

/**
 * The newest block this server has seen on its chain, and when it saw it. The transaction tracker reads the head every
 * quarter second and reports it here, so whoever needs to know which block is current (to read a balance once per
 * block, say) asks no node for it.
 */
@Component
public class ChainHead {

    private record Seen(long block, long atNanos) {
    }

    private final AtomicReference<Seen> newest = new AtomicReference<>();

    /** A head read from the node. An older block than the newest seen is ignored (a lagging node behind a balancer). */
    public void observed(BigInteger block) {
        long number = block.longValueExact();
        long now = System.nanoTime();
        newest.updateAndGet(seen -> seen == null || number >= seen.block() ? new Seen(number, now) : seen);
    }

    /** The newest block, when a head was read within {@code maxAge}; empty when none was (then nobody keeps it fresh). */
    public OptionalLong recent(Duration maxAge) {
        Seen seen = newest.get();
        return seen != null && System.nanoTime() - seen.atNanos() <= maxAge.toNanos() ? OptionalLong.of(seen.block())
                : OptionalLong.empty();
    }
}
