package dev.gpubroker.mcp.http;

import java.util.Optional;
import java.util.concurrent.atomic.LongAdder;

import org.springframework.core.Ordered;
import org.springframework.http.HttpMethod;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.security.authentication.ReactiveAuthenticationManager;
import org.springframework.security.core.AuthenticationException;
import org.springframework.security.web.server.firewall.ServerExchangeRejectedException;
import org.springframework.security.web.server.firewall.ServerWebExchangeFirewall;
import org.springframework.security.web.server.header.ServerHttpHeadersWriter;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import org.springframework.web.server.WebHandler;

import io.modelcontextprotocol.server.transport.ServerTransportSecurityException;
import io.modelcontextprotocol.server.transport.ServerTransportSecurityValidator;

import dev.gpubroker.web.BearerCredential;
import reactor.core.publisher.Mono;

/**
 * The hot path of /mcp: a POST to exactly {@code /mcp} (no query) from an agent whose credential is good goes through
 * the same checks as through Spring Security's chain and the dispatcher, in one filter, straight to the transport:
 * the strict firewall (every header read through it once), DNS-rebinding protection, the agent's credential
 * ({@link AgentCredentials}, the very manager the chain uses), the chain's response headers, then
 * {@link McpRequestGuard} and the transport's own handler. Anything else, and anything any of these checks would refuse,
 * is handed to the full chain untouched, which refuses it as it always did (the fast lane never answers a refusal of its
 * own). What it saves: Spring Security's filters and the dispatcher's handler lookup on every tool call, a fifth to a
 * quarter of the broker's CPU per call (HotPathBenchmark, docs/performance.md).
 *
 * <p>Why this is the same decision: the router serves POST /mcp (written exactly so, nothing to decode) with the
 * transport's handler alone, and the /mcp chain lets a request pass when, and only when, the firewall and the
 * DNS-rebinding check pass and the credential authenticates with ROLE_AGENT. The chain reads a header through the
 * firewalled exchange when something asks for it, and refuses the request if that header is refused; the lane reads
 * every header through it first, so it serves only a request whose every header the firewall allows (a request the
 * chain could still serve, with a refused header nothing asks for, goes to the chain), and what reads them after gets
 * the same values. Tested both ways in McpFastLaneTest; every other test's tool calls go through the lane.
 */
final class McpFastLane implements WebFilter, Ordered {

    private final ServerWebExchangeFirewall firewall;
    private final ServerTransportSecurityValidator origins;
    private final ReactiveAuthenticationManager credentials;
    private final ServerHttpHeadersWriter headers;
    private final McpRequestGuard guard;
    private final WebHandler transport;
    /** Requests this lane answered itself: what shows (in McpFastLaneTest) that the lane is taken at all. */
    private final LongAdder served = new LongAdder();

    McpFastLane(ServerWebExchangeFirewall firewall, ServerTransportSecurityValidator origins,
            ReactiveAuthenticationManager credentials, ServerHttpHeadersWriter headers, McpRequestGuard guard,
            WebHandler transport) {
        this.firewall = firewall;
        this.origins = origins;
        this.credentials = credentials;
        this.headers = headers;
        this.guard = guard;
        this.transport = transport;
    }

    @Override
    public int getOrder() {
        // Inside web.UnreadBodyDrain (which answers for everything), before Spring Security's chain (-100).
        return Ordered.HIGHEST_PRECEDENCE + 1;
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        ServerHttpRequest request = exchange.getRequest();
        if (!HttpMethod.POST.equals(request.getMethod()) || request.getURI().getRawQuery() != null
                || !McpHttpConfiguration.ENDPOINT.equals(request.getURI().getRawPath())) {
            return chain.filter(exchange);
        }
        // Every header is read through the firewalled exchange first, and the credential through it: what the firewall
        // refuses throws, and the request goes to the chain, which decides on it in its own words.
        return firewall.getFirewalledExchange(exchange)
                .filter(McpFastLane::everyHeaderPasses)
                .flatMap(this::authenticated)
                .onErrorResume(error -> error instanceof ServerExchangeRejectedException
                        || error instanceof AuthenticationException, error -> Mono.empty())
                .map(Optional::of)
                .defaultIfEmpty(Optional.empty())
                .flatMap(passed -> passed.isEmpty() ? chain.filter(exchange) : serve(exchange));
    }

    /**
     * Reads every header's name and values once through the firewalled exchange, which refuses (throws) a name or value
     * it does not allow. Having read each once here, the lane serves the exchange itself: through the firewalled one,
     * every further read (the guard's, the transport's, which copies them all for the tools) matched the same bytes
     * against the firewall's patterns again.
     */
    private static boolean everyHeaderPasses(ServerWebExchange firewalled) {
        var headers = firewalled.getRequest().getHeaders();
        for (String name : headers.headerNames()) {
            headers.get(name);
        }
        return true;
    }

    /**
     * The exchange with the agent's id on it (its attributes are the exchange's own), when the chain would let it
     * through; empty when not.
     */
    private Mono<ServerWebExchange> authenticated(ServerWebExchange checked) {
        String token = BearerCredential.token(checked);
        if (token == null) {
            return Mono.empty();
        }
        try {
            origins.validateHeaders(checked.getRequest().getHeaders().asMultiValueMap());
        } catch (ServerTransportSecurityException refused) {
            return Mono.empty();
        }
        return credentials.authenticate(BearerCredential.presented(token))
                // What the chain's authorization asks (McpSecurity: hasAuthority(ROLE_AGENT)).
                .filter(agent -> agent.isAuthenticated() && agent.getAuthorities().stream()
                        .anyMatch(granted -> McpSecurity.ROLE.equals(granted.getAuthority())))
                .map(agent -> {
                    checked.getAttributes().put(McpHttpConfiguration.AGENT_ID_ATTRIBUTE, agent.getName());
                    return checked;
                });
    }

    private Mono<Void> serve(ServerWebExchange exchange) {
        served.increment();
        return guard.filter(withSecurityHeaders(exchange), transport::handle);
    }

    long served() {
        return served.sum();
    }

    /** As Spring Security's header filter writes them: just before the response is committed, whoever commits it. */
    private ServerWebExchange withSecurityHeaders(ServerWebExchange exchange) {
        exchange.getResponse().beforeCommit(() -> headers.writeHttpHeaders(exchange));
        return exchange;
    }
}
