package dev.gpubroker.mcp.http;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.security.web.server.header.CacheControlServerHttpHeadersWriter;
import org.springframework.security.web.server.header.CompositeServerHttpHeadersWriter;
import org.springframework.security.web.server.header.ContentTypeOptionsServerHttpHeadersWriter;
import org.springframework.security.web.server.header.ReferrerPolicyServerHttpHeadersWriter;
import org.springframework.security.web.server.header.ServerHttpHeadersWriter;
import org.springframework.security.web.server.header.StrictTransportSecurityServerHttpHeadersWriter;
import org.springframework.security.web.server.header.XFrameOptionsServerHttpHeadersWriter;
import org.springframework.security.web.server.header.XXssProtectionServerHttpHeadersWriter;
import org.springframework.web.server.ServerWebExchange;

import reactor.core.publisher.Mono;

/**
 * The response headers of Spring Security's default header settings (what the /mcp chain writes), for
 * {@link McpFastLane}. Every response the lane answers is in one case: not a 304, over plain HTTP (the broker serves
 * HTTP; TLS ends at a proxy in front of it), with none of these headers set yet. There the library's writers set all
 * of the values below, and this sets them itself: the library's writers copy the header sets they compare on every
 * call (about 6 KB and a few per cent of the broker's CPU per tool call under HotPathBenchmark). In any other case the
 * library's writers decide, as in the chain. LaneSecurityHeadersTest checks that the two write the same, and
 * McpFastLaneTest that a lane answer carries the chain's headers.
 */
final class LaneSecurityHeaders implements ServerHttpHeadersWriter {

    /** What the library's default writers set in the one case, in their order. */
    private static final Map<String, String> DEFAULTS = defaults();
    /** Every header any of the writers looks at: with one of them already set, the library decides. */
    private static final List<String> CONSULTED = List.of(HttpHeaders.CACHE_CONTROL, HttpHeaders.PRAGMA,
            HttpHeaders.EXPIRES, "X-Content-Type-Options", "Strict-Transport-Security", "X-Frame-Options",
            "X-XSS-Protection", "Referrer-Policy");

    private final ServerHttpHeadersWriter library = new CompositeServerHttpHeadersWriter(
            new CacheControlServerHttpHeadersWriter(), new ContentTypeOptionsServerHttpHeadersWriter(),
            new StrictTransportSecurityServerHttpHeadersWriter(), new XFrameOptionsServerHttpHeadersWriter(),
            new XXssProtectionServerHttpHeadersWriter(), new ReferrerPolicyServerHttpHeadersWriter());

    private static Map<String, String> defaults() {
        Map<String, String> defaults = new LinkedHashMap<>();
        defaults.put(HttpHeaders.CACHE_CONTROL, "no-cache, no-store, max-age=0, must-revalidate");
        defaults.put(HttpHeaders.PRAGMA, "no-cache");
        defaults.put(HttpHeaders.EXPIRES, "0");
        defaults.put("X-Content-Type-Options", "nosniff");
        defaults.put("X-Frame-Options", "DENY");
        defaults.put("X-XSS-Protection", "0");
        defaults.put("Referrer-Policy", "no-referrer");
        return Collections.unmodifiableMap(defaults);
    }

    @Override
    public Mono<Void> writeHttpHeaders(ServerWebExchange exchange) {
        if (!inTheOneCase(exchange)) {
            return library.writeHttpHeaders(exchange);
        }
        HttpHeaders headers = exchange.getResponse().getHeaders();
        DEFAULTS.forEach(headers::set);
        return Mono.empty();
    }

    private static boolean inTheOneCase(ServerWebExchange exchange) {
        if (HttpStatus.NOT_MODIFIED.equals(exchange.getResponse().getStatusCode())
                || "https".equalsIgnoreCase(exchange.getRequest().getURI().getScheme())) {
            return false;
        }
        HttpHeaders headers = exchange.getResponse().getHeaders();
        for (String name : CONSULTED) {
            if (headers.containsHeader(name)) {
                return false;
            }
        }
        return true;
    }
}
