package dev.gpubroker.admin;

import java.net.URI;

import org.springframework.core.Ordered;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;

import reactor.core.publisher.Mono;

/** Every request under /admin/v1 carries the admin token as a bearer token, or gets a 401 problem. */
@Component
class AdminAuthenticationFilter implements WebFilter, Ordered {

    static final String PREFIX = "/admin/v1";
    /** The API's description holds no secret: readable without the token, so tools can discover the API. */
    static final String OPENAPI = PREFIX + "/openapi.json";
    private static final String BEARER = "Bearer ";

    private final AdminToken token;
    private final ProblemWriter problems;

    AdminAuthenticationFilter(AdminToken token, ProblemWriter problems) {
        this.token = token;
        this.problems = problems;
    }

    @Override
    public int getOrder() {
        return Ordered.HIGHEST_PRECEDENCE + 10;
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        String path = exchange.getRequest().getPath().pathWithinApplication().value();
        if (!path.equals(PREFIX) && !path.startsWith(PREFIX + "/") || path.equals(OPENAPI)) {
            return chain.filter(exchange);
        }
        String authorization = exchange.getRequest().getHeaders().getFirst(HttpHeaders.AUTHORIZATION);
        boolean bearer = authorization != null && authorization.regionMatches(true, 0, BEARER, 0, BEARER.length());
        if (bearer && token.matches(authorization.substring(BEARER.length()).strip())) {
            return chain.filter(exchange);
        }
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.UNAUTHORIZED, bearer
                ? "the admin token is wrong"
                : "send the admin token as 'Authorization: Bearer <token>' (GPUBROKER_ADMIN_TOKEN or <data>/admin.token)");
        problem.setType(URI.create("https://gpubroker.dev/problems/unauthorized"));
        problem.setTitle("Unauthorized");
        exchange.getResponse().getHeaders().set(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"gpu-broker-admin\"");
        return problems.write(exchange, problem);
    }
}
