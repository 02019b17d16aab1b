package dev.gpubroker.mcp.http;

import java.nio.charset.StandardCharsets;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.Ordered;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;

import io.modelcontextprotocol.server.transport.ServerTransportSecurityException;
import io.modelcontextprotocol.server.transport.ServerTransportSecurityValidator;

import dev.gpubroker.identity.AgentService;
import reactor.core.publisher.Mono;

/**
 * Guards /mcp: first DNS-rebinding protection (a foreign Origin gets 403, a foreign Host 421), then the agent's
 * bearer key (missing or wrong: 401 with a {@code WWW-Authenticate} header, RFC 6750). The key is never logged.
 */
final class McpAuthenticationFilter implements WebFilter, Ordered {

    private static final Logger log = LoggerFactory.getLogger(McpAuthenticationFilter.class);
    private static final String BEARER = "Bearer ";
    private static final String REALM = "Bearer realm=\"gpu-broker\"";

    private final AgentService agents;
    private final ServerTransportSecurityValidator securityValidator;

    McpAuthenticationFilter(AgentService agents, ServerTransportSecurityValidator securityValidator) {
        this.agents = agents;
        this.securityValidator = securityValidator;
    }

    @Override
    public int getOrder() {
        return Ordered.HIGHEST_PRECEDENCE + 10;
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        String path = exchange.getRequest().getPath().pathWithinApplication().value();
        if (!path.equals(McpHttpConfiguration.ENDPOINT) && !path.startsWith(McpHttpConfiguration.ENDPOINT + "/")) {
            return chain.filter(exchange);
        }
        try {
            securityValidator.validateHeaders(exchange.getRequest().getHeaders().asMultiValueMap());
        } catch (ServerTransportSecurityException refused) {
            log.warn("MCP request refused by DNS-rebinding protection ({}): Origin={} Host={}", refused.getStatusCode(),
                    exchange.getRequest().getHeaders().getOrigin(), exchange.getRequest().getHeaders().getFirst(HttpHeaders.HOST));
            return reject(exchange, HttpStatus.valueOf(refused.getStatusCode()), null, refused.getMessage());
        }
        String authorization = exchange.getRequest().getHeaders().getFirst(HttpHeaders.AUTHORIZATION);
        if (authorization == null || !authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            return reject(exchange, HttpStatus.UNAUTHORIZED, REALM,
                    "missing agent API key: send 'Authorization: Bearer <key>'");
        }
        String key = authorization.substring(BEARER.length()).strip();
        return agents.authenticate(key)
                .flatMap(agent -> {
                    exchange.getAttributes().put(McpHttpConfiguration.AGENT_ID_ATTRIBUTE, agent.agentId());
                    return chain.filter(exchange).thenReturn(true);
                })
                .switchIfEmpty(Mono.defer(() -> reject(exchange, HttpStatus.UNAUTHORIZED,
                        REALM + ", error=\"invalid_token\", error_description=\"unknown agent API key\"",
                        "unknown agent API key").thenReturn(false)))
                .then();
    }

    private static Mono<Void> reject(ServerWebExchange exchange, HttpStatus status, String challenge, String message) {
        var response = exchange.getResponse();
        response.setStatusCode(status);
        if (challenge != null) {
            response.getHeaders().set(HttpHeaders.WWW_AUTHENTICATE, challenge);
        }
        response.getHeaders().setContentType(MediaType.APPLICATION_JSON);
        String body = "{\"error\":\"" + message.replace("\"", "'") + "\"}";
        DataBuffer buffer = response.bufferFactory().wrap(body.getBytes(StandardCharsets.UTF_8));
        return response.writeWith(Mono.just(buffer));
    }
}
