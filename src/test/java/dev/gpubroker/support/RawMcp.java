package dev.gpubroker.support;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * MCP over streamable HTTP without an SDK in between: the test writes each JSON-RPC message itself (broken ones
 * included) and reads what comes back, JSON or an event stream, within a time bound.
 */
public final class RawMcp implements AutoCloseable {

    /** One answer. {@code status} is -1 when none came within the bound; {@code messages} are the JSON-RPC messages. */
    public record Answer(int status, String contentType, String sessionId, String body, List<JsonNode> messages,
            boolean timedOut) {

        /** The first JSON-RPC message, or the body read as JSON when it is not an event stream. */
        public JsonNode message() {
            return messages.isEmpty() ? null : messages.getFirst();
        }
    }

    public static final String INITIALIZE = """
            {"jsonrpc":"2.0","id":"init-1","method":"initialize","params":{"protocolVersion":"2025-11-25",\
            "capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""";

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final URI endpoint;
    private final String apiKey;
    private final JsonMapper json;
    private final Duration bound;
    private String sessionId;

    public RawMcp(URI base, String apiKey, JsonMapper json, Duration bound) {
        this.endpoint = base.resolve("/mcp");
        this.apiKey = apiKey;
        this.json = json;
        this.bound = bound;
    }

    /** Opens a session (initialize, then notifications/initialized) and keeps its id for the messages that follow. */
    public RawMcp initialize() {
        Answer answer = post(INITIALIZE);
        if (answer.status() != 200 || answer.sessionId() == null) {
            throw new AssertionError("initialize failed: " + answer);
        }
        sessionId = answer.sessionId();
        Answer initialized = post("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
        if (initialized.status() != 202) {
            throw new AssertionError("notifications/initialized failed: " + initialized);
        }
        return this;
    }

    public String sessionId() {
        return sessionId;
    }

    public Answer post(String body) {
        return send(HttpRequest.newBuilder(endpoint).POST(HttpRequest.BodyPublishers.ofString(body)), sessionId);
    }

    public Answer post(byte[] body) {
        return send(HttpRequest.newBuilder(endpoint).POST(HttpRequest.BodyPublishers.ofByteArray(body)), sessionId);
    }

    /** A call of a tool with arguments given as raw JSON (an object, or anything else to see what happens). */
    public Answer callTool(Object id, String tool, String argumentsJson) {
        return post("{\"jsonrpc\":\"2.0\",\"id\":" + json.writeValueAsString(id) + ",\"method\":\"tools/call\",\"params\":"
                + "{\"name\":" + json.writeValueAsString(tool) + ",\"arguments\":" + argumentsJson + "}}");
    }

    public Answer send(HttpRequest.Builder request, String session) {
        request.timeout(bound)
                .header("Content-Type", "application/json")
                .header("Accept", "application/json, text/event-stream");
        if (apiKey != null) {
            request.header("Authorization", "Bearer " + apiKey);
        }
        if (session != null) {
            request.header("Mcp-Session-Id", session);
        }
        var pending = http.sendAsync(request.build(), HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> response;
        try {
            response = pending.get(bound.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            pending.cancel(true);
            return new Answer(-1, null, null, "", List.of(), true);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof java.net.http.HttpTimeoutException) {
                return new Answer(-1, null, null, "", List.of(), true);
            }
            throw new AssertionError("the request failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
        String contentType = response.headers().firstValue("Content-Type").orElse("");
        return new Answer(response.statusCode(), contentType, response.headers().firstValue("Mcp-Session-Id").orElse(null),
                response.body(), messages(contentType, response.body()), false);
    }

    private List<JsonNode> messages(String contentType, String body) {
        List<JsonNode> messages = new ArrayList<>();
        try {
            if (contentType.toLowerCase(Locale.ROOT).startsWith("text/event-stream")) {
                for (String line : body.split("\n")) {
                    if (line.startsWith("data:")) {
                        messages.add(json.readTree(line.substring(5).strip()));
                    }
                }
            } else if (!body.isBlank()) {
                messages.add(json.readTree(body));
            }
        } catch (RuntimeException notJson) {
            // Left empty: the caller sees the body and fails with it.
        }
        return messages;
    }

    /** The session's event stream (GET), heard in the background until {@link Listener#close()}. */
    public Listener listen() {
        HttpRequest.Builder request = HttpRequest.newBuilder(endpoint).GET()
                .header("Accept", "text/event-stream")
                .header("Mcp-Session-Id", sessionId);
        if (apiKey != null) {
            request.header("Authorization", "Bearer " + apiKey);
        }
        Listener listener = new Listener();
        listener.pending = http.sendAsync(request.build(), HttpResponse.BodyHandlers.ofLines())
                .thenAccept(response -> {
                    listener.status = response.statusCode();
                    response.body().forEach(line -> {
                        if (line.startsWith("data:")) {
                            listener.messages.add(json.readTree(line.substring(5).strip()));
                        }
                    });
                });
        return listener;
    }

    /** What a session's event stream brought so far. */
    public static final class Listener implements AutoCloseable {

        private final List<JsonNode> messages = new java.util.concurrent.CopyOnWriteArrayList<>();
        private volatile int status = -1;
        private java.util.concurrent.CompletableFuture<Void> pending;

        public List<JsonNode> messages() {
            return List.copyOf(messages);
        }

        public int status() {
            return status;
        }

        @Override
        public void close() {
            pending.cancel(true);
        }
    }

    @Override
    public void close() {
        if (sessionId != null) {
            send(HttpRequest.newBuilder(endpoint).DELETE(), sessionId);
        }
        http.shutdownNow();
    }
}
