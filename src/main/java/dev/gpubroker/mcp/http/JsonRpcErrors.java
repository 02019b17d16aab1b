package dev.gpubroker.mcp.http;

import java.util.LinkedHashMap;
import java.util.Map;

import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.ServerHttpResponse;

import dev.gpubroker.mcp.http.JsonRpcMessage.Refused;
import reactor.core.publisher.Mono;
import tools.jackson.databind.json.JsonMapper;

/**
 * Writes a JSON-RPC error as the whole answer: {@code {"jsonrpc":"2.0","id":...,"error":{"code","message","data":
 * {"field"}}}}, as application/json. Messages are written here, never taken from an exception, so no Java type name
 * or stack frame reaches a client.
 */
final class JsonRpcErrors {

    private final JsonMapper json;

    JsonRpcErrors(JsonMapper json) {
        this.json = json;
    }

    Mono<Void> write(ServerHttpResponse response, HttpStatusCode status, Refused refused) {
        return Mono.defer(() -> {
            if (response.isCommitted()) {
                return Mono.empty();
            }
            byte[] body = body(refused);
            response.setStatusCode(status);
            response.getHeaders().setContentType(MediaType.APPLICATION_JSON);
            response.getHeaders().setContentLength(body.length);
            return response.writeWith(Mono.just(response.bufferFactory().wrap(body)));
        });
    }

    byte[] body(Refused refused) {
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("code", refused.code());
        error.put("message", refused.message());
        if (refused.field() != null) {
            error.put("data", Map.of("field", refused.field()));
        }
        Map<String, Object> message = new LinkedHashMap<>();
        message.put("jsonrpc", "2.0");
        message.put("id", refused.id());
        message.put("error", error);
        return json.writeValueAsBytes(message);
    }
}
