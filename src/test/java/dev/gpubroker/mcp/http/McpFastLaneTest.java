package dev.gpubroker.mcp.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import dev.gpubroker.support.BrokerIntegrationTest;
import dev.gpubroker.support.RawHttp;
import dev.gpubroker.support.RawMcp;

/**
 * {@link McpFastLane} decides as the /mcp security chain does: an agent's tool call goes through it with the chain's
 * response headers, and everything the chain refuses is still refused by the chain, in its words, the lane serving
 * none of it.
 */
class McpFastLaneTest extends BrokerIntegrationTest {

    private static final Duration BOUND = Duration.ofSeconds(10);
    /** Every header Spring Security's header settings can write; the chain's defaults write some of them. */
    private static final List<String> SECURITY_HEADERS = List.of("cache-control", "pragma", "expires",
            "x-content-type-options", "x-frame-options", "x-xss-protection", "strict-transport-security",
            "referrer-policy", "content-security-policy", "permissions-policy", "feature-policy",
            "cross-origin-opener-policy", "cross-origin-embedder-policy", "cross-origin-resource-policy");
    private static final Map<String, String> MCP_HEADERS = Map.of("Content-Type", "application/json",
            "Accept", "application/json, text/event-stream");

    @Autowired
    McpFastLane lane;

    @Test
    void anAgentsToolCallTakesTheFastLaneAndIsAnsweredAsThroughTheChain() throws Exception {
        String key = newAgent("fast").apiKey();
        RawMcp mcp = new RawMcp(baseUri(), key, json, BOUND).initialize();
        long before = lane.served();

        RawMcp.Answer answer = mcp.callTool(7, "account", "{}");

        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.message().path("result").path("structuredContent").path("name").asString()).isEqualTo("fast");
        assertThat(lane.served()).as("answered by the lane").isEqualTo(before + 1);

        // The same initialize once through the lane and once through the chain (a query string keeps it off the lane).
        RawHttp http = new RawHttp(port, BOUND);
        RawHttp.Response fast = http.send("POST", "/mcp", withKey(key), RawMcp.INITIALIZE);
        long afterFast = lane.served();
        RawHttp.Response chained = http.send("POST", "/mcp?through=chain", withKey(key), RawMcp.INITIALIZE);
        assertThat(lane.served()).as("a query string goes through the chain").isEqualTo(afterFast);
        assertThat(fast.status()).isEqualTo(200);
        assertThat(chained.status()).isEqualTo(200);
        assertThat(securityHeaders(fast)).as("the chain's response headers, on the lane too")
                .containsKey("x-content-type-options").isEqualTo(securityHeaders(chained));
    }

    @Test
    void whatTheChainRefusesTheChainStillRefusesInItsOwnWords() throws Exception {
        String key = newAgent("refused").apiKey();
        RawHttp http = new RawHttp(port, BOUND);
        long before = lane.served();

        RawHttp.Response wrongKey = http.send("POST", "/mcp", withKey("gpb_not-a-key"), RawMcp.INITIALIZE);
        assertThat(wrongKey.status()).isEqualTo(401);
        assertThat(wrongKey.header("WWW-Authenticate")).contains("invalid_token").contains("resource_metadata=");

        RawHttp.Response noKey = http.send("POST", "/mcp", MCP_HEADERS, RawMcp.INITIALIZE);
        assertThat(noKey.status()).isEqualTo(401);
        assertThat(noKey.header("WWW-Authenticate")).contains("resource_metadata=").doesNotContain("invalid_token");

        Map<String, String> foreign = new TreeMap<>(withKey(key));
        foreign.put("Origin", "https://evil.example");
        assertThat(http.send("POST", "/mcp", foreign, RawMcp.INITIALIZE).status()).as("DNS-rebinding protection")
                .isEqualTo(403);

        // A control character Netty lets through (NEL) in a header the chain reads: the firewall refuses it on reading.
        RawHttp.Response controlCharacter = http.send("POST", "/mcp", withKey(key + "\u0085"), RawMcp.INITIALIZE);
        assertThat(controlCharacter.status()).as("the strict firewall").isEqualTo(400);
        assertThat(controlCharacter.body()).contains("rejected-request");

        // The same in a header nothing asks for by name: the lane reads every header first, so it leaves the request
        // to the chain, whose firewall only refuses a header when it is read, and which serves it.
        Map<String, String> oddHeader = new TreeMap<>(withKey(key));
        oddHeader.put("X-Note", "a\u0085b");
        long beforeOdd = lane.served();
        RawHttp.Response odd = http.send("POST", "/mcp", oddHeader, RawMcp.INITIALIZE);
        assertThat(lane.served()).as("a header the firewall refuses keeps the request off the lane").isEqualTo(beforeOdd);
        assertThat(odd.status()).as("as the chain answers it").isEqualTo(200);

        assertThat(lane.served()).as("none of these went through the lane").isEqualTo(before);

        RawHttp.Response encodedPath = http.send("POST", "/%6Dcp", withKey(key), RawMcp.INITIALIZE);
        assertThat(encodedPath.status()).as("another spelling of /mcp is the chain's to judge, and it serves it")
                .isEqualTo(200);
        assertThat(lane.served()).isEqualTo(before);
    }

    @Test
    void aPostThatDoesNotAcceptBothJsonAndTheEventStreamIsRefusedNamingTheAcceptHeader() throws Exception {
        String key = newAgent("accepting").apiKey();
        RawHttp http = new RawHttp(port, BOUND);
        for (String accept : List.of("application/json", "text/event-stream", "*/*", "application/*, text/*")) {
            Map<String, String> headers = new TreeMap<>(withKey(key));
            headers.put("Accept", accept);
            RawHttp.Response refused = http.send("POST", "/mcp", headers, RawMcp.INITIALIZE);
            assertThat(refused.status()).as(accept).isEqualTo(406);
            assertThat(refused.body()).as(accept).contains("application/json, text/event-stream").contains("Accept");
        }
        Map<String, String> reversed = new TreeMap<>(withKey(key));
        reversed.put("Accept", "text/event-stream, application/json");
        assertThat(http.send("POST", "/mcp", reversed, RawMcp.INITIALIZE).status()).as("both, in either order")
                .isEqualTo(200);
    }

    private static Map<String, String> withKey(String key) {
        Map<String, String> headers = new TreeMap<>(MCP_HEADERS);
        headers.put("Authorization", "Bearer " + key);
        return headers;
    }

    private static Map<String, String> securityHeaders(RawHttp.Response response) {
        Map<String, String> found = new TreeMap<>();
        SECURITY_HEADERS.forEach(name -> {
            if (response.header(name) != null) {
                found.put(name, response.header(name));
            }
        });
        return found;
    }
}
