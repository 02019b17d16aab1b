package dev.gpubroker.admin;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;

/** Which browser origins count as the admin API's own (the scheme is not compared: a TLS proxy may sit in front). */
class AdminCrossSiteRefusalTest {

    @Test
    void theOriginMustNameTheHostAndPortTheRequestWasSentTo() {
        assertThat(AdminCrossSiteRefusal.sameOrigin("http://127.0.0.1:8080", "127.0.0.1:8080")).isTrue();
        assertThat(AdminCrossSiteRefusal.sameOrigin("https://broker.example.com", "broker.example.com")).isTrue();
        assertThat(AdminCrossSiteRefusal.sameOrigin("https://broker.example.com", "broker.example.com:443")).isTrue();
        assertThat(AdminCrossSiteRefusal.sameOrigin("http://BROKER.example.com:80", "broker.example.com")).isTrue();
        assertThat(AdminCrossSiteRefusal.sameOrigin("http://[::1]:8080", "[::1]:8080")).isTrue();

        assertThat(AdminCrossSiteRefusal.sameOrigin("http://127.0.0.1:8081", "127.0.0.1:8080")).isFalse();
        assertThat(AdminCrossSiteRefusal.sameOrigin("http://evil.example", "broker.example.com")).isFalse();
        assertThat(AdminCrossSiteRefusal.sameOrigin("http://broker.example.com.evil.example", "broker.example.com")).isFalse();
        assertThat(AdminCrossSiteRefusal.sameOrigin("null", "127.0.0.1:8080")).as("sandboxed frames, file: pages").isFalse();
        assertThat(AdminCrossSiteRefusal.sameOrigin("not a url", "127.0.0.1:8080")).isFalse();
        assertThat(AdminCrossSiteRefusal.sameOrigin("http://127.0.0.1:8080", null)).isFalse();
    }

    @Test
    void aBrowsersOwnWordOnWhereTheRequestComesFromDecidesBeforeItsOrigin() {
        // Behind a proxy that rewrites Host: the console's write says same-origin, its Origin names the public host.
        assertThat(AdminCrossSiteRefusal.crossSite(MockServerHttpRequest.put("http://127.0.0.1:8080/admin/v1/kill-switch")
                .header("Sec-Fetch-Site", "same-origin").header("Origin", "https://broker.example.com").build())).isFalse();
        assertThat(AdminCrossSiteRefusal.crossSite(MockServerHttpRequest.put("http://127.0.0.1:8080/admin/v1/kill-switch")
                .header("Sec-Fetch-Site", "cross-site").header("Origin", "http://127.0.0.1:8080").build())).isTrue();
        assertThat(AdminCrossSiteRefusal.crossSite(MockServerHttpRequest.put("http://127.0.0.1:8080/admin/v1/kill-switch")
                .header("Sec-Fetch-Site", "same-site").build())).as("a sibling subdomain is another site's page").isTrue();
        // An older browser without Sec-Fetch-Site: its Origin against Host.
        assertThat(AdminCrossSiteRefusal.crossSite(MockServerHttpRequest.put("http://127.0.0.1:8080/admin/v1/kill-switch")
                .header("Origin", "http://evil.example").build())).isTrue();
        // Not a browser (curl, Prometheus): neither header.
        assertThat(AdminCrossSiteRefusal.crossSite(MockServerHttpRequest.get("http://127.0.0.1:8080/admin/v1/metrics")
                .build())).isFalse();
    }
}
