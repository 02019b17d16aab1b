package dev.gpubroker.mcp;

import java.util.List;

import io.modelcontextprotocol.json.TypeRef;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpServerSession;
import io.modelcontextprotocol.spec.McpServerTransport;
import io.modelcontextprotocol.spec.McpServerTransportProvider;

import reactor.core.publisher.Mono;

/**
 * A transport provider whose sessions send each message through a {@link Decoration}; everything else passes through
 * unchanged. For what the SDK's transports leave to their caller (e.g. one sender at a time on stdio) and for watching
 * what goes out.
 */
public final class DecoratedSends {

    /** What to do around one outgoing message; {@code send} is the transport's own, not yet subscribed. */
    @FunctionalInterface
    public interface Decoration {
        Mono<Void> apply(McpSchema.JSONRPCMessage message, Mono<Void> send);
    }

    private DecoratedSends() {
    }

    public static McpServerTransportProvider of(McpServerTransportProvider transport, Decoration decoration) {
        return new McpServerTransportProvider() {
            @Override
            public void setSessionFactory(McpServerSession.Factory sessionFactory) {
                transport.setSessionFactory(sessionTransport -> sessionFactory.create(decorated(sessionTransport, decoration)));
            }

            @Override
            public Mono<Void> notifyClients(String method, Object params) {
                return transport.notifyClients(method, params);
            }

            @Override
            public Mono<Void> notifyClient(String sessionId, String method, Object params) {
                return transport.notifyClient(sessionId, method, params);
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

    private static McpServerTransport decorated(McpServerTransport sessionTransport, Decoration decoration) {
        return new McpServerTransport() {
            @Override
            public Mono<Void> sendMessage(McpSchema.JSONRPCMessage message) {
                return decoration.apply(message, sessionTransport.sendMessage(message));
            }

            @Override
            public <T> T unmarshalFrom(Object data, TypeRef<T> type) {
                return sessionTransport.unmarshalFrom(data, type);
            }

            @Override
            public Mono<Void> closeGracefully() {
                return sessionTransport.closeGracefully();
            }

            @Override
            public void close() {
                sessionTransport.close();
            }

            @Override
            public List<String> protocolVersions() {
                return sessionTransport.protocolVersions();
            }
        };
    }
}
