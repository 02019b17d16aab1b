package dev.gpubroker.mcp.http;

import org.reactivestreams.Publisher;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.http.server.reactive.ServerHttpResponseDecorator;

import dev.gpubroker.mcp.http.JsonRpcMessage.Refused;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import tools.jackson.databind.node.NullNode;

/**
 * The SDK's transport answers some refusals with a serialised Java exception (stack frames included) or with no body
 * at all. Whatever it writes with an error status is replaced here by a JSON-RPC error chosen by the status; event
 * streams and successful answers pass untouched.
 */
final class JsonRpcErrorBodies extends ServerHttpResponseDecorator {

    private final JsonRpcErrors errors;

    JsonRpcErrorBodies(ServerHttpResponse delegate, JsonRpcErrors errors) {
        super(delegate);
        this.errors = errors;
    }

    @Override
    public Mono<Void> writeWith(Publisher<? extends DataBuffer> body) {
        if (!replaced()) {
            return super.writeWith(body);
        }
        return Flux.from(body).doOnNext(DataBufferUtils::release).then(Mono.defer(this::writeOwnBody));
    }

    @Override
    public Mono<Void> writeAndFlushWith(Publisher<? extends Publisher<? extends DataBuffer>> body) {
        if (!replaced()) {
            return super.writeAndFlushWith(body);
        }
        return Flux.from(body).concatMap(Flux::from).doOnNext(DataBufferUtils::release)
                .then(Mono.defer(this::writeOwnBody));
    }

    @Override
    public Mono<Void> setComplete() {
        return replaced() && !isCommitted() ? writeOwnBody() : super.setComplete();
    }

    private boolean replaced() {
        HttpStatusCode status = getStatusCode();
        if (status == null || !status.isError()) {
            // Every answer passes here: its Content-Type is parsed only when the status asks for it.
            return false;
        }
        MediaType type = getHeaders().getContentType();
        return type == null || !MediaType.TEXT_EVENT_STREAM.isCompatibleWith(type);
    }

    private Mono<Void> writeOwnBody() {
        HttpStatusCode status = getStatusCode();
        int code = status == null ? 500 : status.value();
        Refused refused = switch (code) {
            case 404 -> new Refused(JsonRpcMessage.SESSION_NOT_FOUND, "session not found: it was closed or never opened;"
                    + " call initialize for a new one", null, NullNode.getInstance());
            case 405 -> Refused.invalid("method not allowed: /mcp takes POST, GET (an event stream) and DELETE", null);
            case 406 -> Refused.invalid("not acceptable: send 'Accept: application/json, text/event-stream'", "Accept");
            default -> code >= 500
                    ? new Refused(JsonRpcMessage.INTERNAL_ERROR, "the server failed to handle this message; retry", null,
                            NullNode.getInstance())
                    : Refused.invalid("invalid request: not an MCP message this endpoint takes (HTTP " + code + ")", null);
        };
        return errors.write(getDelegate(), HttpStatusCode.valueOf(code), refused);
    }
}
