package dev.gpubroker.mcp;

import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpServerTransportProviderBase;
import reactor.core.publisher.Mono;

/** Progress for one call, sent as notifications to the session that made it (the token it gave names the call). */
record SessionProgressChannel(Object token, String sessionId, McpServerTransportProviderBase transport)
        implements ProgressChannel {

    @Override
    public boolean requested() {
        return true;
    }

    @Override
    public Mono<Void> report(double progress, Double total, String message) {
        return transport.notifyClient(sessionId, McpSchema.METHOD_NOTIFICATION_PROGRESS,
                new McpSchema.ProgressNotification(token, progress, total, message));
    }
}
