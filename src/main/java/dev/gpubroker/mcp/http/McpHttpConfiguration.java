package dev.gpubroker.mcp.http;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.server.reactive.observation.ServerRequestObservationContext;
import org.springframework.web.reactive.function.server.RouterFunction;

import io.micrometer.observation.ObservationPredicate;
import io.modelcontextprotocol.common.McpTransportContext;
import io.modelcontextprotocol.server.McpAsyncServer;
import io.modelcontextprotocol.server.transport.DefaultServerTransportSecurityValidator;
import io.modelcontextprotocol.server.transport.ServerTransportSecurityValidator;
import org.springframework.ai.mcp.server.webflux.transport.WebFluxStreamableServerTransportProvider;

import dev.gpubroker.config.BrokerProperties;
import dev.gpubroker.identity.AgentService;
import dev.gpubroker.mcp.McpServerFactory;
import dev.gpubroker.mcp.ToolRegistry;
import dev.gpubroker.mcp.JobResources;
import tools.jackson.databind.json.JsonMapper;

/**
 * MCP over streamable HTTP at {@value #ENDPOINT}. DNS-rebinding protection is on: only loopback hosts and origins
 * (plus those configured) are accepted. Agents authenticate with their API key as a bearer token
 * ({@link McpSecurity}); the agent id then travels in the MCP transport context. Every message is checked by
 * {@link McpRequestGuard} before the transport reads it.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.REACTIVE)
public class McpHttpConfiguration {

    public static final String ENDPOINT = "/mcp";
    static final String AGENT_ID_ATTRIBUTE = "gpubroker.agentId";

    private static final Logger log = LoggerFactory.getLogger(McpHttpConfiguration.class);
    private static final List<String> LOOPBACK_HOSTS = List.of("127.0.0.1:*", "localhost:*", "[::1]:*");
    private static final List<String> LOOPBACK_ORIGINS =
            List.of("http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*");

    @Bean
    public ServerTransportSecurityValidator mcpSecurityValidator(BrokerProperties properties) {
        List<String> hosts = new ArrayList<>(LOOPBACK_HOSTS);
        hosts.addAll(properties.http().allowedHosts());
        List<String> origins = new ArrayList<>(LOOPBACK_ORIGINS);
        origins.addAll(properties.http().allowedOrigins());
        log.info("MCP HTTP accepts Host {} and Origin {}", hosts, origins);
        return DefaultServerTransportSecurityValidator.builder().allowedHosts(hosts).allowedOrigins(origins).build();
    }

    @Bean
    public WebFluxStreamableServerTransportProvider mcpHttpTransport(McpServerFactory factory,
            ServerTransportSecurityValidator securityValidator) {
        return WebFluxStreamableServerTransportProvider.builder()
                .jsonMapper(factory.jsonMapper())
                .messageEndpoint(ENDPOINT)
                .securityValidator(securityValidator)
                .contextExtractor(request -> request.attribute(AGENT_ID_ATTRIBUTE)
                        .map(agentId -> McpTransportContext.create(Map.of(AGENT_ID_ATTRIBUTE, agentId)))
                        .orElse(McpTransportContext.EMPTY))
                .build();
    }

    @Bean
    McpSessions mcpSessions() {
        return new McpSessions();
    }

    @Bean(destroyMethod = "close")
    public McpAsyncServer mcpHttpServer(McpServerFactory factory, WebFluxStreamableServerTransportProvider transport,
            AgentService agents, McpSessions sessions) {
        return factory.create(transport, new HttpCallerResolver(agents, sessions));
    }

    @Bean
    public RouterFunction<?> mcpRoutes(WebFluxStreamableServerTransportProvider transport) {
        return transport.getRouterFunction();
    }

    /**
     * No HTTP server observation for /mcp: every tool call is the same POST there, so its timer could not tell one tool
     * or outcome from another (metrics.ToolCallMetrics does), and observing each request cost about 3 % of the broker's
     * CPU on the hot path (HotPathBenchmark). The admin API and the health check are still observed.
     */
    @Bean
    ObservationPredicate noMcpRequestObservations() {
        return (name, context) -> !(context instanceof ServerRequestObservationContext request
                && ENDPOINT.equals(request.getCarrier().getPath().pathWithinApplication().value()));
    }

    @Bean
    McpRequestGuard mcpRequestGuard(JsonMapper json, McpSessions sessions, ToolRegistry tools, JobResources jobResources) {
        return new McpRequestGuard(json, sessions, tools::toolNames, jobResources);
    }
}
