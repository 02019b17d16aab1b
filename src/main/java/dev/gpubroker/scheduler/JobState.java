package dev.gpubroker.scheduler;

import java.util.Locale;

/** A job's states and, in one place, the moves allowed between them. */
public enum JobState {
    LAUNCHING, RUNNING, COMPLETED, FAILED, CANCELLED;

    public boolean canMoveTo(JobState next) {
        return switch (this) {
            case LAUNCHING -> next == RUNNING || next == FAILED || next == CANCELLED;
            case RUNNING -> next == COMPLETED || next == FAILED || next == CANCELLED;
            case COMPLETED, FAILED, CANCELLED -> false;
        };
    }

    public boolean isFinal() {
        return this == COMPLETED || this == FAILED || this == CANCELLED;
    }

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
