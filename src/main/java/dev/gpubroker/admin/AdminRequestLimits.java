package dev.gpubroker.admin;

import org.springframework.core.Ordered;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import org.springframework.web.util.pattern.PathPattern;
import org.springframework.web.util.pattern.PathPatternParser;

import dev.gpubroker.web.BoundedBody;
import dev.gpubroker.web.ProblemWriter;
import reactor.core.publisher.Mono;

/**
 * An admin request's body is at most {@value #BODY_BYTES_MAX} bytes (the largest, a policy, is well under 1 KiB); a
 * larger one is answered 413 with a problem before anything parses it. Runs after authentication, so only the operator
 * can make the server read a body at all.
 */
@Component
class AdminRequestLimits implements WebFilter, Ordered {

    static final int BODY_BYTES_MAX = 64 * 1024;
    private static final PathPattern ADMIN = PathPatternParser.defaultInstance.parse(AdminRoutes.ALL);

    private final ProblemWriter problems;

    AdminRequestLimits(ProblemWriter problems) {
        this.problems = problems;
    }

    @Override
    public int getOrder() {
        // After Spring Security's chain (order -100), before the handlers.
        return 0;
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        ServerHttpRequest request = exchange.getRequest();
        if (!ADMIN.matches(request.getPath().pathWithinApplication()) || !mayHaveABody(request)) {
            return chain.filter(exchange);
        }
        if (request.getHeaders().getContentLength() > BoundedBody.DRAIN_BYTES_MAX) {
            return tooLarge(exchange);
        }
        return BoundedBody.read(request, BODY_BYTES_MAX)
                .flatMap(body -> chain.filter(BoundedBody.withBody(exchange, body)))
                .onErrorResume(BoundedBody.TooLarge.class, e -> tooLarge(exchange));
    }

    private static boolean mayHaveABody(ServerHttpRequest request) {
        return request.getHeaders().getContentLength() > 0 || request.getHeaders().getFirst(HttpHeaders.TRANSFER_ENCODING) != null;
    }

    private Mono<Void> tooLarge(ServerWebExchange exchange) {
        return problems.write(exchange, ProblemWriter.problem(HttpStatus.CONTENT_TOO_LARGE, "body-too-large",
                "Body too large", "an admin request's body is at most " + BODY_BYTES_MAX + " bytes", "body"));
    }
}
