package dev.gpubroker.mcp.http;

import java.net.URI;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.annotation.Order;
import org.springframework.http.CacheControl;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.security.config.web.server.ServerHttpSecurity;
import org.springframework.security.web.server.SecurityWebFilterChain;
import org.springframework.security.web.server.util.matcher.ServerWebExchangeMatchers;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerResponse;
import org.springframework.web.server.ServerWebExchange;

import io.modelcontextprotocol.server.transport.ServerTransportSecurityException;
import io.modelcontextprotocol.server.transport.ServerTransportSecurityValidator;

import dev.gpubroker.identity.AgentService;
import dev.gpubroker.web.EdgeSecurityConfiguration;

/**
 * /mcp as an OAuth 2.0 protected resource: its metadata (RFC 9728) at {@value #METADATA_PATH} and at
 * {@value #METADATA_PATH}{@code /mcp} (the path-specific form clients derive from the resource URL), public, so that an
 * MCP client that meets a 401 learns where to get a credential: the {@code WWW-Authenticate} challenge on /mcp names
 * this document ({@code resource_metadata}). The resource identifier is {@code gpubroker.mcp.auth.resource}, or this
 * server's /mcp as the request reached it when that is not set (the Host checked as on /mcp, never reflected
 * unchecked).
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.REACTIVE)
public class ProtectedResource {

    static final String METADATA_PATH = "/.well-known/oauth-protected-resource";
    private static final Logger log = LoggerFactory.getLogger(ProtectedResource.class);

    private final McpAuthProperties auth;

    public ProtectedResource(McpAuthProperties auth) {
        this.auth = auth;
        if (auth.oauth()) {
            log.info("MCP accepts agent API keys and access tokens from {} for {} (JWK set {}, agent in claim '{}')",
                    auth.issuer(), auth.resource(), auth.jwkSetUri(), auth.agentClaim());
        }
    }

    AgentCredentials credentials(AgentService agents) {
        return AgentCredentials.from(agents, auth);
    }

    /** The resource identifier: the configured one, or /mcp on the scheme, host and port this request used. */
    String resource(ServerWebExchange exchange) {
        if (!auth.resource().isBlank()) {
            return auth.resource();
        }
        URI uri = exchange.getRequest().getURI();
        return uri.getScheme() + "://" + uri.getRawAuthority() + McpHttpConfiguration.ENDPOINT;
    }

    /** RFC 9728 section 3.1: the well-known segment between the resource's host and its path. */
    String metadataUrl(ServerWebExchange exchange) {
        URI resource = URI.create(resource(exchange));
        String path = resource.getRawPath() == null || resource.getRawPath().equals("/") ? "" : resource.getRawPath();
        return resource.getScheme() + "://" + resource.getRawAuthority() + METADATA_PATH + path;
    }

    private Map<String, Object> metadata(ServerWebExchange exchange) {
        Map<String, Object> metadata = new LinkedHashMap<>();
        metadata.put("resource", resource(exchange));
        if (!auth.authorizationServers().isEmpty()) {
            metadata.put("authorization_servers", auth.authorizationServers());
        } else if (auth.oauth()) {
            metadata.put("authorization_servers", List.of(auth.issuer()));
        }
        metadata.put("bearer_methods_supported", List.of("header"));
        metadata.put("resource_name", "GPU Broker");
        return metadata;
    }

    @Bean
    RouterFunction<ServerResponse> protectedResourceMetadata() {
        return RouterFunctions.route()
                .GET(METADATA_PATH, request -> answer(request.exchange()))
                .GET(METADATA_PATH + McpHttpConfiguration.ENDPOINT, request -> answer(request.exchange()))
                .build();
    }

    private reactor.core.publisher.Mono<ServerResponse> answer(ServerWebExchange exchange) {
        return ServerResponse.ok().contentType(MediaType.APPLICATION_JSON)
                // Public and the same for every caller: any web page may read it, a cache may keep it a while.
                .header(HttpHeaders.ACCESS_CONTROL_ALLOW_ORIGIN, "*")
                .cacheControl(CacheControl.maxAge(java.time.Duration.ofMinutes(5)).cachePublic())
                .bodyValue(metadata(exchange));
    }

    /**
     * Open to anyone, for the document only; the Host is checked as on /mcp (a foreign one gets 421), since the
     * document names this server by the host the request used when no resource is configured.
     */
    @Bean
    @Order(19)
    SecurityWebFilterChain protectedResourceMetadataChain(ServerHttpSecurity http, ServerTransportSecurityValidator validator) {
        return EdgeSecurityConfiguration.stateless(http)
                .securityMatcher(ServerWebExchangeMatchers.pathMatchers(org.springframework.http.HttpMethod.GET,
                        METADATA_PATH, METADATA_PATH + McpHttpConfiguration.ENDPOINT))
                .addFilterBefore((exchange, chain) -> {
                    try {
                        validator.validateHeaders(Map.of(HttpHeaders.HOST,
                                exchange.getRequest().getHeaders().getOrEmpty(HttpHeaders.HOST)));
                    } catch (ServerTransportSecurityException refused) {
                        exchange.getResponse().setStatusCode(HttpStatus.valueOf(refused.getStatusCode()));
                        return exchange.getResponse().setComplete();
                    }
                    return chain.filter(exchange);
                }, org.springframework.security.config.web.server.SecurityWebFiltersOrder.AUTHENTICATION)
                .authorizeExchange(exchanges -> exchanges.anyExchange().permitAll())
                .build();
    }
}
