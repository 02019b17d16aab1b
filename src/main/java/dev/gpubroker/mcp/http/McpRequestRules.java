package dev.gpubroker.mcp.http;

import java.util.Collection;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

import tools.jackson.databind.JsonNode;

import dev.gpubroker.mcp.http.JsonRpcMessage.Refused;
import dev.gpubroker.mcp.http.JsonRpcMessage.Request;

/**
 * The MCP methods this server answers and the shape of their params, checked before the SDK converts them (where a
 * wrong shape would surface as an internal error carrying Java type names). A method the server does not serve is
 * answered {@code -32601} here: the SDK would leave the HTTP stream open.
 */
final class McpRequestRules {

    static final String INITIALIZE = "initialize";
    static final String TOOLS_CALL = "tools/call";
    static final String RESOURCES_SUBSCRIBE = "resources/subscribe";

    /** Exactly the request handlers the SDK registers for this server's capabilities (tools, resources with subscribe, logging). */
    static final Set<String> METHODS = Set.of(INITIALIZE, "ping", "tools/list", TOOLS_CALL, "resources/list",
            "resources/read", "resources/templates/list", RESOURCES_SUBSCRIBE, "resources/unsubscribe", "logging/setLevel");

    /**
     * The notifications the SDK is given. Others (cancelled, progress, roots changed) are accepted and dropped: this
     * server has nothing to cancel mid-call, asks for no progress and uses no roots; handing the SDK a roots change
     * would make it send a request this server never needs.
     */
    static final Set<String> FORWARDED_NOTIFICATIONS = Set.of("notifications/initialized");

    private static final Set<String> LOGGING_LEVELS = Set.of("debug", "info", "notice", "warning", "error", "critical",
            "alert", "emergency");
    private static final int NAME_LENGTH_MAX = 256;
    private static final int URI_LENGTH_MAX = 2048;
    private static final int CURSOR_LENGTH_MAX = 1024;
    private static final int PROGRESS_TOKEN_LENGTH_MAX = 256;

    /** The param at fault and what it should be. */
    private record Fault(String field, String message) {
    }

    private McpRequestRules() {
    }

    /** What is wrong with a request's method or params, if anything. */
    static Optional<Refused> check(Request request, Collection<String> toolNames) {
        if (!METHODS.contains(request.method())) {
            return Optional.of(new Refused(JsonRpcMessage.METHOD_NOT_FOUND, "method not found: this server answers "
                    + METHODS.stream().sorted().toList(), "method", request.id()));
        }
        JsonNode params = request.params();
        Fault problem = meta(params);
        if (problem == null) {
            problem = switch (request.method()) {
                case INITIALIZE -> initialize(params);
                case TOOLS_CALL -> toolsCall(params, toolNames);
                case "resources/read", RESOURCES_SUBSCRIBE, "resources/unsubscribe" ->
                        string(params, "uri", URI_LENGTH_MAX, true);
                case "logging/setLevel" -> params == null || text(params.get("level")) == null
                        || !LOGGING_LEVELS.contains(text(params.get("level")))
                        ? new Fault("params.level", "level is one of " + LOGGING_LEVELS.stream().sorted().toList()) : null;
                case "tools/list", "resources/list", "resources/templates/list" ->
                        string(params, "cursor", CURSOR_LENGTH_MAX, false);
                default -> null;
            };
        }
        if (problem == null) {
            return Optional.empty();
        }
        return Optional.of(new Refused(JsonRpcMessage.INVALID_PARAMS, "invalid params: " + problem.message(),
                problem.field(), request.id()));
    }

    /** The uri of a request that names a resource. */
    static String uri(Request request) {
        return text(request.params().get("uri"));
    }

    private static Fault initialize(JsonNode params) {
        if (params == null) {
            return new Fault("params", "initialize takes protocolVersion, capabilities and clientInfo");
        }
        Fault problem = string(params, "protocolVersion", 64, true);
        if (problem != null) {
            return problem;
        }
        JsonNode capabilities = params.get("capabilities");
        if (capabilities == null || !capabilities.isObject()) {
            return new Fault("params.capabilities", "capabilities is an object");
        }
        JsonNode clientInfo = params.get("clientInfo");
        if (clientInfo == null || !clientInfo.isObject()) {
            return new Fault("params.clientInfo", "clientInfo is an object with name and version");
        }
        for (String field : new String[] {"name", "version"}) {
            JsonNode value = clientInfo.get(field);
            if (value == null || !value.isString() || value.stringValue().length() > NAME_LENGTH_MAX) {
                return new Fault("params.clientInfo." + field, "clientInfo." + field + " is a string of at most "
                        + NAME_LENGTH_MAX + " characters");
            }
        }
        return null;
    }

    private static Fault toolsCall(JsonNode params, Collection<String> toolNames) {
        if (params == null) {
            return new Fault("params", "tools/call takes the tool's name and its arguments");
        }
        JsonNode name = params.get("name");
        if (name == null || !name.isString()) {
            return new Fault("params.name", "name is the tool's name, one of " + toolNames);
        }
        if (!toolNames.contains(name.stringValue())) {
            return new Fault("params.name", "no tool is named so; the tools are " + toolNames);
        }
        JsonNode arguments = params.get("arguments");
        if (arguments != null && !arguments.isObject() && !arguments.isNull()) {
            return new Fault("params.arguments", "arguments is an object of the tool's inputSchema, not "
                    + arguments.getNodeType().name().toLowerCase(Locale.ROOT));
        }
        return null;
    }

    private static Fault meta(JsonNode params) {
        JsonNode meta = params == null ? null : params.get("_meta");
        if (meta == null || meta.isNull()) {
            return null;
        }
        if (!meta.isObject()) {
            return new Fault("params._meta", "_meta is an object");
        }
        JsonNode token = meta.get("progressToken");
        if (token != null && !(token.isString() && token.stringValue().length() <= PROGRESS_TOKEN_LENGTH_MAX)
                && !(token.isIntegralNumber() && token.canConvertToLong())) {
            return new Fault("params._meta.progressToken", "progressToken is a string of at most " + PROGRESS_TOKEN_LENGTH_MAX
                    + " characters or an integer");
        }
        return null;
    }

    private static Fault string(JsonNode params, String field, int lengthMax, boolean required) {
        JsonNode value = params == null ? null : params.get(field);
        if (value == null || value.isNull()) {
            return required ? new Fault("params." + field, field + " is required") : null;
        }
        if (!value.isString() || value.stringValue().length() > lengthMax) {
            return new Fault("params." + field, field + " is a string of at most " + lengthMax + " characters");
        }
        return null;
    }

    private static String text(JsonNode node) {
        return node != null && node.isString() ? node.stringValue() : null;
    }
}
