package dev.gpubroker.payments;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Batched settlement ({@code gpubroker.chain.settle-batch.*}, docs/payments.md "Batched settlement").
 * <ul>
 * <li>{@code window}: how long a settlement waits for others to share its transaction (GpuEscrow.settleBatch). 0, the
 *     default, turns batching off: every settlement is its own {@code settle} transaction, sent at once. Each batched
 *     settlement waits at most this long before it is sent (at most {@link #WINDOW_LIMIT}; a few seconds, well under
 *     {@code gpubroker.jobs.lease}, since the job engine's step that ends a job waits for it).</li>
 * <li>{@code max}: the most settlements in one batch; a full batch goes out without waiting for the window. Bounded by
 *     {@link #MAX_LIMIT} so that a batch stays far under a block's gas limit (20 settle for about 263,000 gas).</li>
 * </ul>
 * Refunds and deposits are never batched.
 */
@ConfigurationProperties("gpubroker.chain.settle-batch")
public record SettlementBatching(
        @DefaultValue("0s") Duration window,
        @DefaultValue("20") int max) {

    /** At 13,000 to 24,000 gas per member (docs/contracts.md), 100 members stay under 2.5 million gas. */
    public static final int MAX_LIMIT = 100;
    /** The job engine's step that ends a job waits for its batch; longer than this would hold up the engine. */
    public static final Duration WINDOW_LIMIT = Duration.ofSeconds(60);

    public SettlementBatching {
        if (window == null || window.isNegative() || window.compareTo(WINDOW_LIMIT) > 0) {
            throw new IllegalStateException("gpubroker.chain.settle-batch.window is 0 (off) or positive, at most "
                    + WINDOW_LIMIT.toSeconds() + " s, got " + window);
        }
        if (max < 2 || max > MAX_LIMIT) {
            throw new IllegalStateException("gpubroker.chain.settle-batch.max is between 2 and " + MAX_LIMIT + ", got "
                    + max);
        }
    }

    public static SettlementBatching off() {
        return new SettlementBatching(Duration.ZERO, 20);
    }

    public boolean enabled() {
        return !window.isZero();
    }
}
