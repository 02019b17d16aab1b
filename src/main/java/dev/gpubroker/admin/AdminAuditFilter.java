package dev.gpubroker.admin;

import java.util.LinkedHashMap;
import java.util.Map;

import org.springframework.core.Ordered;
import org.springframework.http.HttpMethod;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;

import dev.gpubroker.audit.AuditLog;
import reactor.core.publisher.Mono;

/**
 * Every admin action (any request that is not a read) goes to the audit log with its outcome, including the refused
 * ones (wrong token). Bodies are not recorded: they can hold keys.
 */
@Component
class AdminAuditFilter implements WebFilter, Ordered {

    private final AuditLog audit;

    AdminAuditFilter(AuditLog audit) {
        this.audit = audit;
    }

    @Override
    public int getOrder() {
        // Before the token check, so that a refused attempt is recorded too.
        return Ordered.HIGHEST_PRECEDENCE + 5;
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        String path = exchange.getRequest().getPath().pathWithinApplication().value();
        if (!path.startsWith(AdminAuthenticationFilter.PREFIX) || HttpMethod.GET.equals(exchange.getRequest().getMethod())) {
            return chain.filter(exchange);
        }
        String action = exchange.getRequest().getMethod().name() + " " + path;
        return chain.filter(exchange).then(Mono.defer(() -> {
            var status = exchange.getResponse().getStatusCode();
            Map<String, Object> query = new LinkedHashMap<>(exchange.getRequest().getQueryParams().toSingleValueMap());
            return audit.record("admin", "admin", action, query, status == null ? "unknown" : Integer.toString(status.value()),
                    null);
        }));
    }
}
