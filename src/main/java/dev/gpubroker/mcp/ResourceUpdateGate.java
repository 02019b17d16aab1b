package dev.gpubroker.mcp;

import java.util.List;
import java.util.function.BiFunction;

import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpServerSession;
import io.modelcontextprotocol.spec.McpServerTransportProvider;
import io.modelcontextprotocol.spec.McpServerTransportProviderBase;
import io.modelcontextprotocol.spec.McpStreamableServerSession;
import io.modelcontextprotocol.spec.McpStreamableServerTransportProvider;

import dev.gpubroker.identity.Agent;
import reactor.core.publisher.Mono;

/**
 * A job's update notifications go only to sessions of the job's own agent. The SDK sends
 * {@code notifications/resources/updated} to every session that subscribed to a URI, and it accepts a subscription to
 * any URI (there is no hook to refuse one over stdio); so each such notification is checked here, at the last step
 * before a session, against the agent the session belongs to. Every other message passes untouched.
 */
final class ResourceUpdateGate {

    private final CallerResolver callers;
    /** Whether an agent (first) may hear of changes to a resource (second). */
    private final BiFunction<String, String, Mono<Boolean>> readers;

    ResourceUpdateGate(CallerResolver callers, BiFunction<String, String, Mono<Boolean>> readers) {
        this.callers = callers;
        this.readers = readers;
    }

    McpStreamableServerTransportProvider around(McpStreamableServerTransportProvider transport) {
        return new McpStreamableServerTransportProvider() {
            @Override
            public void setSessionFactory(McpStreamableServerSession.Factory sessionFactory) {
                transport.setSessionFactory(sessionFactory);
            }

            @Override
            public Mono<Void> notifyClients(String method, Object params) {
                return transport.notifyClients(method, params);
            }

            @Override
            public Mono<Void> notifyClient(String sessionId, String method, Object params) {
                return gated(transport, sessionId, method, params);
            }

            @Override
            public Mono<Void> closeGracefully() {
                return transport.closeGracefully();
            }

            @Override
            public void close() {
                transport.close();
            }

            @Override
            public List<String> protocolVersions() {
                return transport.protocolVersions();
            }
        };
    }

    McpServerTransportProvider around(McpServerTransportProvider transport) {
        return new McpServerTransportProvider() {
            @Override
            public void setSessionFactory(McpServerSession.Factory sessionFactory) {
                transport.setSessionFactory(sessionFactory);
            }

            @Override
            public Mono<Void> notifyClients(String method, Object params) {
                return transport.notifyClients(method, params);
            }

            @Override
            public Mono<Void> notifyClient(String sessionId, String method, Object params) {
                return gated(transport, sessionId, method, params);
            }

            @Override
            public Mono<Void> closeGracefully() {
                return transport.closeGracefully();
            }

            @Override
            public void close() {
                transport.close();
            }

            @Override
            public List<String> protocolVersions() {
                return transport.protocolVersions();
            }
        };
    }

    private Mono<Void> gated(McpServerTransportProviderBase transport, String sessionId, String method, Object params) {
        if (!McpSchema.METHOD_NOTIFICATION_RESOURCES_UPDATED.equals(method)) {
            return transport.notifyClient(sessionId, method, params);
        }
        String uri = params instanceof McpSchema.ResourcesUpdatedNotification updated ? updated.uri() : null;
        return callers.resolveSession(sessionId)
                .map(Agent::agentId)
                .filterWhen(agentId -> uri == null ? Mono.just(false) : readers.apply(agentId, uri))
                .flatMap(allowed -> transport.notifyClient(sessionId, method, params));
    }
}
