package dev.gpubroker.mcp;

import reactor.core.publisher.Mono;

/**
 * Where a tool reports progress to the client that asked for it by sending a {@code progressToken} with its call.
 * Reports go to the caller's own session, so they can outlive the call's answer: {@code run} answers at once and
 * reports its job's state changes afterwards. Progress values must increase from one report to the next.
 */
public interface ProgressChannel {

    /** For calls that sent no progress token: reports nothing. */
    ProgressChannel NONE = new ProgressChannel() {
        @Override
        public boolean requested() {
            return false;
        }

        @Override
        public Mono<Void> report(double progress, Double total, String message) {
            return Mono.empty();
        }
    };

    /** Whether the client sent a progress token. */
    boolean requested();

    /** One {@code notifications/progress}; fails when the session is gone. {@code total} may be null (unknown). */
    Mono<Void> report(double progress, Double total, String message);
}
