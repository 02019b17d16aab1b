package dev.gpubroker.mcp;

import java.io.IOException;
import java.util.Map;
import java.util.Set;

import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.json.TypeRef;
import io.modelcontextprotocol.spec.McpSchema;

/**
 * The SDK's JSON mapper, except for the two conversions every tool call makes. The SDK parses a message into a map and
 * then converts that map into a {@link McpSchema.JSONRPCRequest}, and a call's params into a
 * {@link McpSchema.CallToolRequest}; Jackson converts by writing the whole tree out and reading it back, which was the
 * largest single cost left on the hot path (docs/performance.md). A map of the plain shape those records are made from
 * is turned into the record directly: the values are the ones Jackson's own parse produced, and Jackson's conversion
 * would hand back equal ones ({@code DirectRecordsJsonMapperTest} checks both ways). Anything else, or anything
 * unusual (another key, a value of another type), goes to Jackson as before, so that it answers, or refuses, exactly
 * as the SDK would.
 */
final class DirectRecordsJsonMapper implements McpJsonMapper {

    private static final Set<String> REQUEST_KEYS = Set.of("jsonrpc", "method", "id", "params");
    private static final Set<String> CALL_KEYS = Set.of("name", "arguments", "_meta");

    private final McpJsonMapper jackson;

    DirectRecordsJsonMapper(McpJsonMapper jackson) {
        this.jackson = jackson;
    }

    @Override
    public <T> T convertValue(Object from, Class<T> type) {
        if (type == McpSchema.JSONRPCRequest.class && from instanceof Map<?, ?> map) {
            McpSchema.JSONRPCRequest request = request(map);
            if (request != null) {
                return type.cast(request);
            }
        }
        return jackson.convertValue(from, type);
    }

    @Override
    public <T> T convertValue(Object from, TypeRef<T> type) {
        if (type.getType() == McpSchema.CallToolRequest.class && from instanceof Map<?, ?> map) {
            McpSchema.CallToolRequest call = call(map);
            if (call != null) {
                @SuppressWarnings("unchecked")
                T converted = (T) call;
                return converted;
            }
        }
        return jackson.convertValue(from, type);
    }

    /** The request, or null where Jackson should decide: its constructor's checks are the SDK's own. */
    private static McpSchema.JSONRPCRequest request(Map<?, ?> map) {
        if (!REQUEST_KEYS.containsAll(map.keySet())
                || !(map.get("jsonrpc") instanceof String jsonrpc) || jsonrpc.isBlank()
                || !(map.get("method") instanceof String method)) {
            return null;
        }
        Object id = map.get("id");
        Object params = map.get("params");
        if (!(id instanceof String || id instanceof Integer || id instanceof Long) || !stringKeyed(params)) {
            return null;
        }
        return new McpSchema.JSONRPCRequest(jsonrpc, method, id, params);
    }

    private static McpSchema.CallToolRequest call(Map<?, ?> map) {
        if (!CALL_KEYS.containsAll(map.keySet()) || !(map.get("name") instanceof String name)
                || !stringKeyed(map.get("arguments")) || !stringKeyed(map.get("_meta"))) {
            return null;
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> arguments = (Map<String, Object>) map.get("arguments");
        @SuppressWarnings("unchecked")
        Map<String, Object> meta = (Map<String, Object>) map.get("_meta");
        return new McpSchema.CallToolRequest(name, arguments, meta);
    }

    /** Absent, or a map with string keys (params, arguments and _meta as Jackson parses them into an Object). */
    private static boolean stringKeyed(Object value) {
        if (value == null) {
            return true;
        }
        if (!(value instanceof Map<?, ?> map)) {
            return false;
        }
        for (Object key : map.keySet()) {
            if (!(key instanceof String)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public <T> T readValue(String content, Class<T> type) throws IOException {
        return jackson.readValue(content, type);
    }

    @Override
    public <T> T readValue(byte[] content, Class<T> type) throws IOException {
        return jackson.readValue(content, type);
    }

    @Override
    public <T> T readValue(String content, TypeRef<T> type) throws IOException {
        return jackson.readValue(content, type);
    }

    @Override
    public <T> T readValue(byte[] content, TypeRef<T> type) throws IOException {
        return jackson.readValue(content, type);
    }

    @Override
    public String writeValueAsString(Object value) throws IOException {
        return jackson.writeValueAsString(value);
    }

    @Override
    public byte[] writeValueAsBytes(Object value) throws IOException {
        return jackson.writeValueAsBytes(value);
    }
}
