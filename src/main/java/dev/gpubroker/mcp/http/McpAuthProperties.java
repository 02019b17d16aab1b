package dev.gpubroker.mcp.http;

import java.util.List;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * How MCP clients find out how to get a credential for /mcp, and which credentials it takes besides agent API keys.
 * {@code resource}: this server's MCP endpoint as clients reach it ({@code https://broker.example.com/mcp}), the
 * resource identifier of RFC 9728 and the audience JWTs must name; empty: taken from each request (the host the
 * DNS-rebinding protection let through). {@code authorizationServers}: the issuers clients may get a token from,
 * listed in the protected resource metadata. {@code jwkSetUri}: turns on the OAuth resource-server mode, JWTs signed
 * by these keys (then {@code resource} and {@code issuer} are required); empty: API keys only. {@code agentClaim}: the
 * claim that names the agent ({@code agt_...}).
 */
@ConfigurationProperties("gpubroker.mcp.auth")
public record McpAuthProperties(
        @DefaultValue("") String resource,
        @DefaultValue List<String> authorizationServers,
        @DefaultValue("") String jwkSetUri,
        @DefaultValue("") String issuer,
        @DefaultValue("sub") String agentClaim) {

    public boolean oauth() {
        return !jwkSetUri.isBlank();
    }
}
