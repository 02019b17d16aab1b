package dev.gpubroker.mcp.http;

import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectReader;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.NullNode;

/**
 * One message from an MCP client, read and checked as a JSON-RPC 2.0 envelope before the MCP SDK sees it: a single
 * object (no batches: MCP 2025-06-18 dropped them), {@code "jsonrpc": "2.0"}, a method name, an id that is a string or
 * an integer, params that are an object. Anything else is {@link Refused} with the JSON-RPC code and the field at fault.
 */
sealed interface JsonRpcMessage {

    int PARSE_ERROR = -32700;
    int INVALID_REQUEST = -32600;
    int METHOD_NOT_FOUND = -32601;
    int INVALID_PARAMS = -32602;
    int INTERNAL_ERROR = -32603;
    int RESOURCE_NOT_FOUND = -32002;
    int SESSION_NOT_FOUND = -32001;

    int METHOD_LENGTH_MAX = 128;
    int ID_LENGTH_MAX = 256;

    /** A request: it gets an answer with the same id. */
    record Request(JsonNode id, String method, JsonNode params) implements JsonRpcMessage {
    }

    /** A notification: no id, no answer but the HTTP status. */
    record Notification(String method, JsonNode params) implements JsonRpcMessage {
    }

    /** A response to a request of the server's. */
    record Response(JsonNode id) implements JsonRpcMessage {
    }

    /** Not a message this server takes; {@code id} is the request's when it could be read, else JSON null. */
    record Refused(int code, String message, String field, JsonNode id) implements JsonRpcMessage {

        static Refused invalid(String message, String field) {
            return new Refused(INVALID_REQUEST, message, field, NullNode.getInstance());
        }
    }

    static JsonRpcMessage read(byte[] body, JsonMapper json) {
        JsonNode root;
        try {
            root = strictReader(json).readTree(body);
        } catch (JacksonException e) {
            return new Refused(PARSE_ERROR, "parse error: the body is not one well-formed JSON value"
                    + " (duplicate keys are refused too)", null, NullNode.getInstance());
        }
        if (root == null || root.isMissingNode() || root.isNull()) {
            return Refused.invalid("invalid request: the body is empty or null; send one JSON-RPC 2.0 message", null);
        }
        if (root.isArray()) {
            return Refused.invalid("invalid request: batches are not supported; send one JSON-RPC 2.0 message per request",
                    null);
        }
        if (!root.isObject()) {
            return Refused.invalid("invalid request: a JSON-RPC message is an object", null);
        }
        if (!"2.0".equals(stringOrNull(root.get("jsonrpc")))) {
            return Refused.invalid("invalid request: \"jsonrpc\" must be \"2.0\"", "jsonrpc");
        }
        JsonNode id = root.get("id");
        if (id != null && !isValidId(id)) {
            return Refused.invalid("invalid request: \"id\" is a string of at most " + ID_LENGTH_MAX
                    + " characters or an integer", "id");
        }
        JsonNode method = root.get("method");
        if (method == null) {
            if (id != null && (root.has("result") || root.has("error"))) {
                return new Response(id);
            }
            return Refused.invalid("invalid request: a request or notification needs \"method\"", "method");
        }
        if (!method.isString() || method.stringValue().isEmpty() || method.stringValue().length() > METHOD_LENGTH_MAX) {
            return new Refused(INVALID_REQUEST, "invalid request: \"method\" is a name of at most " + METHOD_LENGTH_MAX
                    + " characters", "method", id == null ? NullNode.getInstance() : id);
        }
        JsonNode params = root.get("params");
        if (params != null && !params.isObject() && !params.isNull()) {
            String field = "params";
            String message = "invalid params: \"params\" is an object";
            return id == null ? new Refused(INVALID_PARAMS, message, field, NullNode.getInstance())
                    : new Refused(INVALID_PARAMS, message, field, id);
        }
        JsonNode checkedParams = params == null || params.isNull() ? null : params;
        return id == null ? new Notification(method.stringValue(), checkedParams)
                : new Request(id, method.stringValue(), checkedParams);
    }

    private static ObjectReader strictReader(JsonMapper json) {
        return json.reader()
                .with(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    }

    private static boolean isValidId(JsonNode id) {
        if (id.isString()) {
            return id.stringValue().length() <= ID_LENGTH_MAX;
        }
        return id.isIntegralNumber() && id.canConvertToLong();
    }

    private static String stringOrNull(JsonNode node) {
        return node != null && node.isString() ? node.stringValue() : null;
    }
}
