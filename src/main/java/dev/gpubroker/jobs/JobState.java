package dev.gpubroker.jobs;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A job's states and, in one place, the moves allowed between them. The job repository derives its conditional updates
 * from {@link #sourcesOf}, so a move this enum refuses can never happen in the database either.
 */
public enum JobState {
    LAUNCHING, RUNNING, COMPLETED, FAILED, CANCELLED;

    public boolean canMoveTo(JobState next) {
        return switch (this) {
            // LAUNCHING again: the next attempt, at another offer, after the provider failed the launch (failover).
            case LAUNCHING -> next == LAUNCHING || next == RUNNING || next.isFinal();
            // LAUNCHING: the next attempt after the node running it was lost (failover).
            case RUNNING -> next == LAUNCHING || next.isFinal();
            case COMPLETED, FAILED, CANCELLED -> false;
        };
    }

    /** Every state a job may move to {@code next} from. */
    public static Set<JobState> sourcesOf(JobState next) {
        return EnumSet.allOf(JobState.class).stream().filter(state -> state.canMoveTo(next))
                .collect(Collectors.toCollection(() -> EnumSet.noneOf(JobState.class)));
    }

    public boolean isFinal() {
        return this == COMPLETED || this == FAILED || this == CANCELLED;
    }

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
