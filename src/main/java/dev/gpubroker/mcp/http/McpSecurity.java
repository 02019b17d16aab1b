package dev.gpubroker.mcp.http;

import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.security.config.web.server.SecurityWebFiltersOrder;
import org.springframework.security.config.web.server.ServerHttpSecurity;
import org.springframework.security.web.server.SecurityWebFilterChain;
import org.springframework.security.web.server.authentication.AuthenticationWebFilter;
import org.springframework.security.web.server.firewall.ServerWebExchangeFirewall;
import org.springframework.security.web.server.util.matcher.ServerWebExchangeMatchers;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;

import io.modelcontextprotocol.server.transport.ServerTransportSecurityException;
import io.modelcontextprotocol.server.transport.ServerTransportSecurityValidator;
import org.springframework.ai.mcp.server.webflux.transport.WebFluxStreamableServerTransportProvider;

import dev.gpubroker.identity.AgentService;
import dev.gpubroker.web.BearerCredential;
import dev.gpubroker.web.EdgeSecurityConfiguration;
import reactor.core.publisher.Mono;
import tools.jackson.databind.json.JsonMapper;

/**
 * Who may use /mcp: every request whose decoded path is /mcp or under it (matched as the router matches it) first
 * passes DNS-rebinding protection (a foreign Origin gets 403, a foreign Host 421), then shows an agent's API key as a
 * bearer token, or, in the OAuth resource-server mode, an access token for this resource ({@link AgentCredentials});
 * missing or wrong: 401 with a {@code WWW-Authenticate} challenge (RFC 6750) that points to the protected resource
 * metadata (RFC 9728, {@link ProtectedResource}). The agent's id is then put
 * on the exchange, where the transport's context extractor finds it. The key is never logged or echoed.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.REACTIVE)
class McpSecurity {

    static final String ROLE = "ROLE_AGENT";
    private static final Logger log = LoggerFactory.getLogger(McpSecurity.class);
    private static final String REALM = "Bearer realm=\"gpu-broker\"";

    @Bean
    @Order(20)
    SecurityWebFilterChain mcpEndpoint(ServerHttpSecurity http, AgentCredentials credentials,
            ServerTransportSecurityValidator securityValidator, JsonMapper json, ProtectedResource resource) {
        AuthenticationWebFilter authentication = new AuthenticationWebFilter(credentials);
        authentication.setServerAuthenticationConverter(BearerCredential.fromAuthorizationHeader());
        authentication.setAuthenticationFailureHandler((filterExchange, refused) -> reject(json, filterExchange.getExchange(),
                HttpStatus.UNAUTHORIZED, challenge(resource, filterExchange.getExchange()) + ", error=\"invalid_token\", "
                        + "error_description=\"" + refused.getMessage().replace('"', '\'') + "\"", refused.getMessage()));
        authentication.setAuthenticationSuccessHandler((filterExchange, agent) -> {
            filterExchange.getExchange().getAttributes().put(McpHttpConfiguration.AGENT_ID_ATTRIBUTE, agent.getName());
            return filterExchange.getChain().filter(filterExchange.getExchange());
        });
        return EdgeSecurityConfiguration.stateless(http)
                .securityMatcher(ServerWebExchangeMatchers.pathMatchers(McpHttpConfiguration.ENDPOINT + "/**"))
                .addFilterBefore(dnsRebindingProtection(securityValidator, json), SecurityWebFiltersOrder.AUTHENTICATION)
                .addFilterAt(authentication, SecurityWebFiltersOrder.AUTHENTICATION)
                .authorizeExchange(exchanges -> exchanges.anyExchange().hasAuthority(ROLE))
                .exceptionHandling(handling -> handling
                        .authenticationEntryPoint((exchange, missing) -> reject(json, exchange, HttpStatus.UNAUTHORIZED,
                                challenge(resource, exchange), "missing agent API key: send 'Authorization: Bearer <key>'"))
                        .accessDeniedHandler((exchange, denied) -> reject(json, exchange, HttpStatus.FORBIDDEN, null,
                                "this credential is not an agent's")))
                .build();
    }

    /** The credentials /mcp takes: one manager for the chain above and for {@link McpFastLane}. */
    @Bean
    AgentCredentials mcpCredentials(ProtectedResource resource, AgentService agents) {
        return resource.credentials(agents);
    }

    /**
     * The hot path of /mcp, deciding as the chain above does ({@link McpFastLane}). The response headers are those the
     * chain's default header settings write ({@link LaneSecurityHeaders}); McpFastLaneTest compares the two.
     */
    @Bean
    McpFastLane mcpFastLane(ServerWebExchangeFirewall firewall, ServerTransportSecurityValidator securityValidator,
            AgentCredentials credentials, McpRequestGuard guard, WebFluxStreamableServerTransportProvider transport) {
        return new McpFastLane(firewall, securityValidator, credentials, new LaneSecurityHeaders(), guard,
                RouterFunctions.toWebHandler(transport.getRouterFunction()));
    }

    /** RFC 6750's challenge with RFC 9728's pointer to how a client gets a credential for this resource. */
    private static String challenge(ProtectedResource resource, ServerWebExchange exchange) {
        return REALM + ", resource_metadata=\"" + resource.metadataUrl(exchange) + "\"";
    }

    private static WebFilter dnsRebindingProtection(ServerTransportSecurityValidator validator, JsonMapper json) {
        return (exchange, chain) -> {
            try {
                validator.validateHeaders(exchange.getRequest().getHeaders().asMultiValueMap());
            } catch (ServerTransportSecurityException refused) {
                log.warn("MCP request refused by DNS-rebinding protection ({}): Origin={} Host={}", refused.getStatusCode(),
                        exchange.getRequest().getHeaders().getOrigin(),
                        exchange.getRequest().getHeaders().getFirst(HttpHeaders.HOST));
                return reject(json, exchange, HttpStatusCode.valueOf(refused.getStatusCode()), null, refused.getMessage());
            }
            return chain.filter(exchange);
        };
    }

    private static Mono<Void> reject(JsonMapper json, ServerWebExchange exchange, HttpStatusCode status, String challenge,
            String message) {
        var response = exchange.getResponse();
        response.setStatusCode(status);
        if (challenge != null) {
            response.getHeaders().set(HttpHeaders.WWW_AUTHENTICATE, challenge);
        }
        response.getHeaders().setContentType(MediaType.APPLICATION_JSON);
        byte[] body = json.writeValueAsBytes(Map.of("error", message == null ? "refused" : message));
        return response.writeWith(Mono.just(response.bufferFactory().wrap(body)));
    }
}
