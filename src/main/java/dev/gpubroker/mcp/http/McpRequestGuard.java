package dev.gpubroker.mcp.http;

import java.util.Collection;
import java.util.List;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.Ordered;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import org.springframework.web.util.pattern.PathPattern;
import org.springframework.web.util.pattern.PathPatternParser;

import io.modelcontextprotocol.spec.HttpHeaders;

import dev.gpubroker.mcp.http.JsonRpcMessage.Notification;
import dev.gpubroker.mcp.http.JsonRpcMessage.Refused;
import dev.gpubroker.mcp.http.JsonRpcMessage.Request;
import dev.gpubroker.mcp.http.JsonRpcMessage.Response;
import dev.gpubroker.mcp.JobResources;
import dev.gpubroker.web.BoundedBody;
import reactor.core.publisher.Mono;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.NullNode;

/**
 * Stands between an authenticated agent and the SDK's streamable HTTP transport, which turns broken input into 500s,
 * serialised exceptions or streams that never close. Each POST body is read whole (at most {@value #BODY_BYTES_MAX}
 * bytes, else 413) and checked as one JSON-RPC message ({@link JsonRpcMessage}), its method and params as MCP wants
 * them ({@link McpRequestRules}); a session is usable only by the agent that opened it ({@link McpSessions}); a
 * subscription only to a resource of the caller's own. Refusals are JSON-RPC errors naming the field; what passes is
 * handed on byte for byte, and any error the transport still writes is replaced by a clean one
 * ({@link JsonRpcErrorBodies}).
 */
final class McpRequestGuard implements WebFilter, Ordered {

    static final int BODY_BYTES_MAX = 256 * 1024;

    private static final Logger log = LoggerFactory.getLogger(McpRequestGuard.class);
    private static final PathPattern ENDPOINT = PathPatternParser.defaultInstance.parse(McpHttpConfiguration.ENDPOINT);

    private final JsonMapper json;
    private final JsonRpcErrors errors;
    private final McpSessions sessions;
    private final Supplier<Collection<String>> toolNames;
    private final JobResources jobResources;
    /**
     * The Accept values of the last POST and whether they list both types: a client sends the same Accept on every
     * call, and parsing it was about 1 % of a tool call's CPU (HotPathBenchmark's recording). The verdict depends on the
     * values alone; another client's values replace it.
     */
    private volatile AcceptVerdict lastPostAccept = new AcceptVerdict(List.of(), false);

    private record AcceptVerdict(List<String> values, boolean accepted) {
    }

    McpRequestGuard(JsonMapper json, McpSessions sessions, Supplier<Collection<String>> toolNames,
            JobResources jobResources) {
        this.json = json;
        this.errors = new JsonRpcErrors(json);
        this.sessions = sessions;
        this.toolNames = toolNames;
        this.jobResources = jobResources;
    }

    @Override
    public int getOrder() {
        // After Spring Security's chain (order -100): only an authenticated agent's messages are read at all.
        return 0;
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        if (!ENDPOINT.matches(exchange.getRequest().getPath().pathWithinApplication())) {
            return chain.filter(exchange);
        }
        if (!(exchange.getAttribute(McpHttpConfiguration.AGENT_ID_ATTRIBUTE) instanceof String agentId)) {
            // Unreachable: the /mcp security chain lets no request without an agent this far.
            return refuse(exchange, HttpStatus.UNAUTHORIZED, Refused.invalid("unauthenticated", null));
        }
        return guard(exchange, chain, agentId).onErrorResume(error -> {
            log.error("MCP request failed on {} {}", exchange.getRequest().getMethod(), exchange.getRequest().getPath(),
                    error);
            return refuse(exchange, HttpStatus.INTERNAL_SERVER_ERROR, new Refused(JsonRpcMessage.INTERNAL_ERROR,
                    "the server failed to handle this message; retry", null, NullNode.getInstance()));
        });
    }

    private Mono<Void> guard(ServerWebExchange exchange, WebFilterChain chain, String agentId) {
        HttpMethod method = exchange.getRequest().getMethod();
        if (HttpMethod.POST.equals(method)) {
            return post(exchange, chain, agentId);
        }
        if (HttpMethod.GET.equals(method) || HttpMethod.DELETE.equals(method)) {
            return withinSession(exchange, chain, agentId);
        }
        return forward(exchange, chain);
    }

    private Mono<Void> post(ServerWebExchange exchange, WebFilterChain chain, String agentId) {
        ServerHttpRequest request = exchange.getRequest();
        if (!acceptsJsonAndEventStream(request)) {
            return refuse(exchange, HttpStatus.NOT_ACCEPTABLE, Refused.invalid(
                    "not acceptable: send 'Accept: application/json, text/event-stream'", "Accept"));
        }
        if (request.getHeaders().getContentLength() > BoundedBody.DRAIN_BYTES_MAX) {
            return tooLarge(exchange);
        }
        return BoundedBody.read(request, BODY_BYTES_MAX)
                .flatMap(body -> handle(exchange, chain, agentId, body))
                .onErrorResume(BoundedBody.TooLarge.class, e -> tooLarge(exchange));
    }

    private Mono<Void> handle(ServerWebExchange exchange, WebFilterChain chain, String agentId, byte[] body) {
        return switch (JsonRpcMessage.read(body, json)) {
            case Refused refused -> refuse(exchange, refused.code() == JsonRpcMessage.INVALID_PARAMS && !refused.id().isNull()
                    ? HttpStatus.OK : HttpStatus.BAD_REQUEST, refused);
            case Response response -> refuse(exchange, HttpStatus.BAD_REQUEST, new Refused(JsonRpcMessage.INVALID_REQUEST,
                    "invalid request: this server sends no requests, so it takes no responses", null, response.id()));
            case Notification notification -> notification(exchange, chain, agentId, notification, body);
            case Request request -> request(exchange, chain, agentId, request, body);
        };
    }

    private Mono<Void> notification(ServerWebExchange exchange, WebFilterChain chain, String agentId,
            Notification notification, byte[] body) {
        Refused noSession = sessionRefusal(exchange, agentId, null);
        if (noSession != null) {
            return refuse(exchange, statusOf(noSession), noSession);
        }
        if (!McpRequestRules.FORWARDED_NOTIFICATIONS.contains(notification.method())) {
            exchange.getResponse().setStatusCode(HttpStatus.ACCEPTED);
            return exchange.getResponse().setComplete();
        }
        return forward(BoundedBody.withBody(exchange, body), chain);
    }

    private Mono<Void> request(ServerWebExchange exchange, WebFilterChain chain, String agentId, Request request,
            byte[] body) {
        if (!McpRequestRules.INITIALIZE.equals(request.method())) {
            Refused noSession = sessionRefusal(exchange, agentId, request);
            if (noSession != null) {
                return refuse(exchange, statusOf(noSession), noSession);
            }
        }
        var refusal = McpRequestRules.check(request, toolNames.get());
        if (refusal.isPresent()) {
            return refuse(exchange, HttpStatus.OK, refusal.get());
        }
        ServerWebExchange checked = BoundedBody.withBody(exchange, body);
        if (McpRequestRules.INITIALIZE.equals(request.method())) {
            bindSessionOnAnswer(checked, agentId);
            return forward(checked, chain);
        }
        if (McpRequestRules.RESOURCES_SUBSCRIBE.equals(request.method())) {
            return jobResources.isReadableBy(agentId, McpRequestRules.uri(request))
                    .flatMap(readable -> readable ? forward(checked, chain)
                            : refuse(exchange, HttpStatus.OK, new Refused(JsonRpcMessage.RESOURCE_NOT_FOUND,
                                    "resource not found: subscribe to gpubroker://jobs/{jobId} or gpubroker://jobs/{jobId}/logs"
                                            + " of one of your own jobs", "params.uri", request.id())));
        }
        return forward(checked, chain);
    }

    /** GET (the session's event stream) and DELETE (the end of a session) act on a session of the caller's. */
    private Mono<Void> withinSession(ServerWebExchange exchange, WebFilterChain chain, String agentId) {
        Refused noSession = sessionRefusal(exchange, agentId, null);
        if (noSession != null) {
            return refuse(exchange, statusOf(noSession), noSession);
        }
        String sessionId = exchange.getRequest().getHeaders().getFirst(HttpHeaders.MCP_SESSION_ID);
        if (HttpMethod.GET.equals(exchange.getRequest().getMethod())) {
            if (!accepts(exchange.getRequest(), MediaType.TEXT_EVENT_STREAM)) {
                return refuse(exchange, HttpStatus.NOT_ACCEPTABLE,
                        Refused.invalid("not acceptable: the event stream needs 'Accept: text/event-stream'", "Accept"));
            }
            return forward(exchange, chain);
        }
        return forward(exchange, chain).doOnSuccess(done -> {
            var status = exchange.getResponse().getStatusCode();
            if (status == null || status.is2xxSuccessful()) {
                sessions.forget(sessionId);
            }
        });
    }

    /** Why this request may not use the session it names, or null when it may. */
    private Refused sessionRefusal(ServerWebExchange exchange, String agentId, Request request) {
        var id = request == null ? NullNode.getInstance() : request.id();
        String sessionId = exchange.getRequest().getHeaders().getFirst(HttpHeaders.MCP_SESSION_ID);
        if (sessionId == null) {
            return new Refused(JsonRpcMessage.INVALID_REQUEST, "invalid request: the Mcp-Session-Id header is missing; call "
                    + "initialize first and send the session id it answers with", HttpHeaders.MCP_SESSION_ID, id);
        }
        if (!sessions.ownerOf(sessionId).map(agentId::equals).orElse(false)) {
            return new Refused(JsonRpcMessage.SESSION_NOT_FOUND, "session not found: it was closed or never opened; call "
                    + "initialize for a new one", HttpHeaders.MCP_SESSION_ID, id);
        }
        return null;
    }

    private static HttpStatus statusOf(Refused sessionRefusal) {
        return sessionRefusal.code() == JsonRpcMessage.SESSION_NOT_FOUND ? HttpStatus.NOT_FOUND : HttpStatus.BAD_REQUEST;
    }

    private void bindSessionOnAnswer(ServerWebExchange exchange, String agentId) {
        exchange.getResponse().beforeCommit(() -> Mono.fromRunnable(() -> {
            var response = exchange.getResponse();
            String sessionId = response.getHeaders().getFirst(HttpHeaders.MCP_SESSION_ID);
            if (sessionId != null && response.getStatusCode() != null && response.getStatusCode().is2xxSuccessful()) {
                sessions.bind(sessionId, agentId);
            }
        }));
    }

    /** On to the transport, with its error answers made clean (a failure it does not answer becomes -32603 above). */
    private Mono<Void> forward(ServerWebExchange exchange, WebFilterChain chain) {
        ServerWebExchange cleaned = exchange.mutate()
                .response(new JsonRpcErrorBodies(exchange.getResponse(), errors))
                .build();
        return chain.filter(cleaned);
    }

    private Mono<Void> tooLarge(ServerWebExchange exchange) {
        return refuse(exchange, HttpStatus.CONTENT_TOO_LARGE, Refused.invalid(
                "request body larger than " + BODY_BYTES_MAX + " bytes; send smaller messages", "body"));
    }

    private Mono<Void> refuse(ServerWebExchange exchange, HttpStatus status, Refused refused) {
        return errors.write(exchange.getResponse(), status, refused);
    }

    private boolean acceptsJsonAndEventStream(ServerHttpRequest request) {
        List<String> values = request.getHeaders().getOrEmpty(org.springframework.http.HttpHeaders.ACCEPT);
        AcceptVerdict last = lastPostAccept;
        if (last.values().equals(values)) {
            return last.accepted();
        }
        boolean accepted = accepts(request, MediaType.APPLICATION_JSON, MediaType.TEXT_EVENT_STREAM);
        lastPostAccept = new AcceptVerdict(List.copyOf(values), accepted);
        return accepted;
    }

    /** Whether the Accept header lists every wanted type; read once, it is parsed anew on each read. */
    private static boolean accepts(ServerHttpRequest request, MediaType... wanted) {
        List<MediaType> accepted;
        try {
            accepted = request.getHeaders().getAccept();
        } catch (RuntimeException unreadable) {
            return false;
        }
        // As the transport checks it: the type itself must be listed (a wildcard is not enough).
        for (MediaType one : wanted) {
            if (accepted.stream().noneMatch(type -> type.getType().equalsIgnoreCase(one.getType())
                    && type.getSubtype().equalsIgnoreCase(one.getSubtype()))) {
                return false;
            }
        }
        return true;
    }
}
