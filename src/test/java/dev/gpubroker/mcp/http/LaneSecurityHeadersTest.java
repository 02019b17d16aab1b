package dev.gpubroker.mcp.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;
import org.springframework.http.HttpStatus;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import org.springframework.mock.web.server.MockServerWebExchange;
import org.springframework.security.web.server.header.CacheControlServerHttpHeadersWriter;
import org.springframework.security.web.server.header.CompositeServerHttpHeadersWriter;
import org.springframework.security.web.server.header.ContentTypeOptionsServerHttpHeadersWriter;
import org.springframework.security.web.server.header.ReferrerPolicyServerHttpHeadersWriter;
import org.springframework.security.web.server.header.ServerHttpHeadersWriter;
import org.springframework.security.web.server.header.StrictTransportSecurityServerHttpHeadersWriter;
import org.springframework.security.web.server.header.XFrameOptionsServerHttpHeadersWriter;
import org.springframework.security.web.server.header.XXssProtectionServerHttpHeadersWriter;

/**
 * {@link LaneSecurityHeaders} writes what Spring Security's default header writers write, on the lane's own responses
 * and on every other kind it could meet: a 304, HTTPS, a response that set one of the headers itself.
 */
class LaneSecurityHeadersTest {

    /** Spring Security's defaults (ServerHttpSecurity.HeaderSpec), each writer as the library builds it. */
    private static final ServerHttpHeadersWriter LIBRARY = new CompositeServerHttpHeadersWriter(
            new CacheControlServerHttpHeadersWriter(), new ContentTypeOptionsServerHttpHeadersWriter(),
            new StrictTransportSecurityServerHttpHeadersWriter(), new XFrameOptionsServerHttpHeadersWriter(),
            new XXssProtectionServerHttpHeadersWriter(), new ReferrerPolicyServerHttpHeadersWriter());

    private final LaneSecurityHeaders lane = new LaneSecurityHeaders();

    @Test
    void aLaneAnswerGetsEveryDefaultHeaderWithTheLibrarysValues() {
        Map<String, List<String>> written = written(lane, "http://127.0.0.1:8080/mcp", response -> { });

        assertThat(written).isEqualTo(written(LIBRARY, "http://127.0.0.1:8080/mcp", response -> { }));
        assertThat(written).containsEntry("X-Frame-Options", List.of("DENY"))
                .containsEntry("Cache-Control", List.of("no-cache, no-store, max-age=0, must-revalidate"))
                .containsKeys("Pragma", "Expires", "X-Content-Type-Options", "X-XSS-Protection", "Referrer-Policy")
                .doesNotContainKey("Strict-Transport-Security");
    }

    @Test
    void everyOtherCaseIsDecidedByTheLibrarysWriters() {
        Map<String, Consumer<MockServerWebExchange>> cases = new LinkedHashMap<>();
        cases.put("a 304", exchange -> exchange.getResponse().setStatusCode(HttpStatus.NOT_MODIFIED));
        cases.put("its own cache header", exchange -> exchange.getResponse().getHeaders().setCacheControl("private"));
        cases.put("its own frame options", exchange -> exchange.getResponse().getHeaders().set("X-Frame-Options",
                "SAMEORIGIN"));
        cases.put("its own HSTS header", exchange -> exchange.getResponse().getHeaders().set("Strict-Transport-Security",
                "max-age=1"));
        cases.forEach((name, setUp) -> {
            for (String url : List.of("http://127.0.0.1:8080/mcp", "https://broker.example/mcp")) {
                assertThat(written(lane, url, setUp)).as(name + " on " + url).isEqualTo(written(LIBRARY, url, setUp));
            }
        });
        assertThat(written(lane, "https://broker.example/mcp", exchange -> { }))
                .as("over HTTPS, with HSTS").containsKey("Strict-Transport-Security")
                .isEqualTo(written(LIBRARY, "https://broker.example/mcp", exchange -> { }));
    }

    private static Map<String, List<String>> written(ServerHttpHeadersWriter writer, String url,
            Consumer<MockServerWebExchange> setUp) {
        MockServerWebExchange exchange = MockServerWebExchange.from(MockServerHttpRequest.post(url));
        setUp.accept(exchange);
        writer.writeHttpHeaders(exchange).block();
        Map<String, List<String>> headers = new LinkedHashMap<>();
        exchange.getResponse().getHeaders().forEach(headers::put);
        return headers;
    }
}
