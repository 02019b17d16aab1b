package dev.gpubroker.admin;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

import org.springframework.core.Ordered;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.stereotype.Component;
import org.springframework.web.reactive.HandlerMapping;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;

import dev.gpubroker.audit.AuditLog;
import reactor.core.publisher.Mono;

/**
 * The audit line of every admin action: each write that reaches a handler, and each admin request refused before one
 * (a missing or wrong token, a path the firewall refused, a route that does not exist), with the method, the route
 * pattern the router matched (or would have), the path as it was written, and the answer's status. It runs outside
 * everything else, before the firewall, so no spelling of a path gets around it, and the line is written before the
 * answer leaves. Reads that were answered are not recorded. Bodies are not recorded: they can hold keys.
 */
@Component
class AdminAuditFilter implements WebFilter, Ordered {

    /** Set on the exchange when the admin token was accepted. */
    static final String AUTHENTICATED_ATTRIBUTE = AdminAuditFilter.class.getName() + ".authenticated";

    private static final Set<HttpMethod> READS = Set.of(HttpMethod.GET, HttpMethod.HEAD, HttpMethod.OPTIONS);

    private final AuditLog audit;
    private final AdminRoutes routes;

    AdminAuditFilter(AuditLog audit, AdminRoutes routes) {
        this.audit = audit;
        this.routes = routes;
    }

    @Override
    public int getOrder() {
        // Before Spring Security's filter chain (and its firewall), so that refused attempts are recorded too.
        return Ordered.HIGHEST_PRECEDENCE + 5;
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        if (!aimsAtTheAdminApi(exchange.getRequest())) {
            return chain.filter(exchange);
        }
        AtomicBoolean recorded = new AtomicBoolean();
        exchange.getResponse().beforeCommit(() -> record(exchange, recorded, outcomeOf(exchange)));
        return chain.filter(exchange)
                .onErrorResume(error -> record(exchange, recorded, "error").then(Mono.error(error)))
                .doOnCancel(() -> record(exchange, recorded, "cancelled").subscribe())
                .then(Mono.defer(() -> record(exchange, recorded, outcomeOf(exchange))));
    }

    /**
     * Broader than the admin routes on purpose: any path that names the admin API however it is written (encoded,
     * in another case, with path parameters) is an attempt on it worth a line when it is refused.
     */
    private static boolean aimsAtTheAdminApi(ServerHttpRequest request) {
        String raw = request.getPath().value().toLowerCase(Locale.ROOT);
        String decoded = String.valueOf(request.getURI().getPath()).toLowerCase(Locale.ROOT);
        return raw.contains("admin") || decoded.contains("admin");
    }

    private Mono<Void> record(ServerWebExchange exchange, AtomicBoolean recorded, String outcome) {
        return Mono.defer(() -> {
            boolean reachedHandler = exchange.getAttribute(HandlerMapping.BEST_MATCHING_HANDLER_ATTRIBUTE) != null;
            boolean read = READS.contains(exchange.getRequest().getMethod());
            boolean refused = !reachedHandler && !outcome.startsWith("2");
            if ((read && !refused) || !recorded.compareAndSet(false, true)) {
                return Mono.empty();
            }
            ServerHttpRequest request = exchange.getRequest();
            String action = request.getMethod().name() + " " + routes.patternOf(exchange).orElse("(no such route)");
            Map<String, Object> arguments = new LinkedHashMap<>();
            arguments.put("path", request.getPath().value());
            if (!request.getQueryParams().isEmpty()) {
                arguments.put("query", new LinkedHashMap<>(request.getQueryParams().toSingleValueMap()));
            }
            boolean admin = Boolean.TRUE.equals(exchange.getAttribute(AUTHENTICATED_ATTRIBUTE));
            return audit.record("admin", admin ? "admin" : "anonymous", action, arguments, outcome,
                    reachedHandler ? null : "refused before any handler");
        });
    }

    private static String outcomeOf(ServerWebExchange exchange) {
        HttpStatusCode status = exchange.getResponse().getStatusCode();
        return status == null ? "200" : Integer.toString(status.value());
    }
}
