package dev.gpubroker.mcp;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;

import io.modelcontextprotocol.client.McpSyncClient;

import dev.gpubroker.identity.NewAgent;
import dev.gpubroker.support.BrokerIntegrationTest;
import tools.jackson.core.type.TypeReference;

/**
 * The OAuth resource-server mode of /mcp: access tokens minted here with a local key pair, whose public half an
 * authorization server's JWK set endpoint (a plain HTTP server in this test) publishes. A token for this resource
 * from the configured issuer, naming an agent, acts as that agent; one for another audience, expired, from another
 * issuer, signed by another key or naming an unknown agent is refused with a challenge that says why; agent API keys
 * keep working; the protected resource metadata names the authorization server.
 */
class McpOAuthTokensTest extends BrokerIntegrationTest {

    private static final String ISSUER = "https://auth.example.test";
    private static final String RESOURCE = "https://broker.example.test/mcp";
    private static final RSAKey SIGNING_KEY = generate("operator-key");
    private static final RSAKey STRANGER_KEY = generate("stranger-key");
    private static final HttpServer JWKS = jwkSetServer();

    @DynamicPropertySource
    static void oauth(DynamicPropertyRegistry registry) {
        registry.add("gpubroker.mcp.auth.jwk-set-uri",
                () -> "http://127.0.0.1:" + JWKS.getAddress().getPort() + "/jwks.json");
        registry.add("gpubroker.mcp.auth.issuer", () -> ISSUER);
        registry.add("gpubroker.mcp.auth.resource", () -> RESOURCE);
    }

    @AfterAll
    static void stopJwkSet() {
        JWKS.stop(0);
    }

    @Test
    void anAccessTokenForThisResourceActsAsTheAgentItNames() throws Exception {
        NewAgent agent = newAgent("oauth-agent");
        McpSyncClient client = client(token(SIGNING_KEY, ISSUER, RESOURCE, agent.agent().agentId(), 300));

        Map<String, Object> account = output(call(client, "account", Map.of()));

        assertThat(account).containsEntry("agentId", agent.agent().agentId())
                .containsEntry("walletAddress", agent.agent().walletAddress());
    }

    @Test
    void anAgentApiKeyStillWorks() {
        NewAgent agent = newAgent("oauth-key-holder");

        assertThat(output(call(client(agent.apiKey()), "account", Map.of()))).containsEntry("agentId", agent.agent().agentId());
    }

    @Test
    void tokensThatAreNotForThisResourceOrNotTrustedAreRefusedAndSayWhy() throws Exception {
        String agentId = newAgent("oauth-refused").agent().agentId();

        assertRefused(token(SIGNING_KEY, ISSUER, "https://other.example.test/mcp", agentId, 300), "aud");
        assertRefused(token(SIGNING_KEY, ISSUER, RESOURCE, agentId, -60), "expired");
        assertRefused(token(SIGNING_KEY, "https://evil.example.test", RESOURCE, agentId, 300), "iss");
        assertRefused(token(STRANGER_KEY, ISSUER, RESOURCE, agentId, 300), "could not be verified");
        assertRefused(token(SIGNING_KEY, ISSUER, RESOURCE, "agt_nobody", 300), "agent is not known");
        assertRefused(token(SIGNING_KEY, ISSUER, RESOURCE, null, 300), "names no agent");
    }

    @Test
    void theMetadataNamesTheResourceAndItsAuthorizationServer() throws Exception {
        HttpResponse<String> metadata = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                baseUri().resolve("/.well-known/oauth-protected-resource/mcp")).GET().build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(metadata.statusCode()).isEqualTo(200);
        assertThat(json.readValue(metadata.body(), new TypeReference<Map<String, Object>>() { }))
                .containsEntry("resource", RESOURCE).containsEntry("authorization_servers", List.of(ISSUER));
        HttpResponse<String> unauthenticated = initialize(null);
        assertThat(unauthenticated.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(challenge ->
                assertThat(challenge).contains("resource_metadata=\"https://broker.example.test/.well-known/oauth-protected-resource/mcp\""));
    }

    private void assertRefused(String token, String why) throws Exception {
        HttpResponse<String> response = initialize(token);
        assertThat(response.statusCode()).isEqualTo(401);
        assertThat(response.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(challenge ->
                assertThat(challenge).contains("error=\"invalid_token\"").contains(why));
        assertThat(response.body()).doesNotContain(token);
    }

    private HttpResponse<String> initialize(String token) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(baseUri().resolve("/mcp"))
                .header("Content-Type", "application/json").header("Accept", "application/json, text/event-stream")
                .POST(HttpRequest.BodyPublishers.ofString("""
                        {"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25",
                        "capabilities":{},"clientInfo":{"name":"oauth-test","version":"1"}}}"""));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** An RFC 9068 access token, as an authorization server issues it. */
    private static String token(RSAKey key, String issuer, String audience, String agentId, long validForSeconds)
            throws JOSEException {
        Instant now = Instant.now();
        JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder().issuer(issuer).audience(audience)
                .issueTime(Date.from(now.minusSeconds(120))).expirationTime(Date.from(now.plusSeconds(validForSeconds)))
                .claim("client_id", "test-client");
        if (agentId != null) {
            claims.subject(agentId);
        }
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).type(new JOSEObjectType("at+jwt"))
                .keyID(key.getKeyID()).build(), claims.build());
        jwt.sign(new RSASSASigner(key));
        return jwt.serialize();
    }

    private static RSAKey generate(String keyId) {
        try {
            return new RSAKeyGenerator(2048).keyID(keyId).generate();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    private static HttpServer jwkSetServer() {
        try {
            HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            byte[] body = new JWKSet(SIGNING_KEY.toPublicJWK()).toString().getBytes(StandardCharsets.UTF_8);
            server.createContext("/jwks.json", exchange -> {
                exchange.getResponseHeaders().set("Content-Type", "application/json");
                exchange.sendResponseHeaders(200, body.length);
                exchange.getResponseBody().write(body);
                exchange.close();
            });
            server.start();
            return server;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
