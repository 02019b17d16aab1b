package dev.gpubroker.admin;

import java.net.URI;
import java.util.Locale;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;

import dev.gpubroker.web.ProblemWriter;
import reactor.core.publisher.Mono;

/**
 * Refuses an admin request that a browser says comes from another site, before the token is even looked at. The
 * token travels only as a header that the console's own code adds, so a forged cross-site request cannot carry it
 * anyway (CSRF); this is the second wall, for a page that somehow got hold of the token, and for a mistake that ever
 * lets a browser add credentials by itself. Browsers say where a request comes from with {@code Sec-Fetch-Site} and
 * {@code Origin}; clients that are not browsers (curl, Prometheus, SDKs) send neither and are not affected.
 */
final class AdminCrossSiteRefusal implements WebFilter {

    private final ProblemWriter problems;

    AdminCrossSiteRefusal(ProblemWriter problems) {
        this.problems = problems;
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        ServerHttpRequest request = exchange.getRequest();
        if (crossSite(request)) {
            return problems.write(exchange, ProblemWriter.problem(HttpStatus.FORBIDDEN, "cross-site-request",
                    "Cross-site request", "the admin API answers only its own origin (the console at /console) and "
                            + "clients that are not browsers", "headers"));
        }
        return chain.filter(exchange);
    }

    /**
     * A browser that sends {@code Sec-Fetch-Site} says itself where the request comes from, and that is decided on
     * alone: behind a proxy that rewrites {@code Host} (nginx's default), the console's own writes carry an
     * {@code Origin} that names the public host, not the one the broker sees. Only an older browser, which sends no
     * {@code Sec-Fetch-Site}, is judged by its {@code Origin} against {@code Host}.
     */
    static boolean crossSite(ServerHttpRequest request) {
        String fetchSite = request.getHeaders().getFirst("Sec-Fetch-Site");
        if (fetchSite != null) {
            return !fetchSite.equalsIgnoreCase("same-origin") && !fetchSite.equalsIgnoreCase("none");
        }
        String origin = request.getHeaders().getOrigin();
        return origin != null && !sameOrigin(origin, request.getHeaders().getFirst(HttpHeaders.HOST));
    }

    /**
     * Whether the browser's {@code Origin} names the host and port this request was sent to. The scheme is not
     * compared: behind a proxy that ends TLS, the broker sees http while the page is https.
     */
    static boolean sameOrigin(String origin, String host) {
        if (host == null || "null".equals(origin)) {
            return false;
        }
        try {
            URI uri = URI.create(origin);
            if (uri.getHost() == null) {
                return false;
            }
            String originAuthority = uri.getPort() < 0 ? uri.getHost() : uri.getHost() + ":" + uri.getPort();
            return withoutDefaultPort(originAuthority).equals(withoutDefaultPort(host));
        } catch (IllegalArgumentException unreadable) {
            return false;
        }
    }

    private static String withoutDefaultPort(String authority) {
        String lower = authority.toLowerCase(Locale.ROOT);
        if (lower.endsWith(":80")) {
            return lower.substring(0, lower.length() - 3);
        }
        if (lower.endsWith(":443")) {
            return lower.substring(0, lower.length() - 4);
        }
        return lower;
    }
}
