package dev.gpubroker.jobs;

import java.util.List;

import dev.gpubroker.money.Usdc;

/**
 * A job as its agent sees it now: while it runs, GPU-seconds and cost are counted up to this moment and the refund is
 * what would come back if it stopped now; once it ended, they are the final bill. {@code escrowClosed}: the escrow's
 * settlement or refund is confirmed on chain, so nothing about the job's money changes any more.
 */
public record JobSnapshot(Job job, long gpuSeconds, Usdc cost, Usdc refund, List<Job.Event> events, boolean escrowClosed) {

    public JobSnapshot {
        events = List.copyOf(events);
    }
}
