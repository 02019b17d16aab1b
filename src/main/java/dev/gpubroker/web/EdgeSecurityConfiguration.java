package dev.gpubroker.web;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.security.config.observation.SecurityObservationSettings;
import org.springframework.security.config.web.server.ServerHttpSecurity;
import org.springframework.security.web.server.SecurityWebFilterChain;
import org.springframework.security.web.server.ServerAuthenticationEntryPoint;
import org.springframework.security.web.server.authorization.ServerAccessDeniedHandler;
import org.springframework.security.web.server.context.NoOpServerSecurityContextRepository;
import org.springframework.security.web.server.firewall.ServerExchangeRejectedHandler;
import org.springframework.security.web.server.firewall.ServerWebExchangeFirewall;
import org.springframework.security.web.server.firewall.StrictServerWebExchangeFirewall;
import org.springframework.security.web.server.savedrequest.NoOpServerRequestCache;

/**
 * What every HTTP request meets first, whatever its path. Spring Security's strict firewall refuses a path that could
 * be read two ways (path parameters after ';', an encoded '/', '\', '%' or '.', '//', '.' and '..' segments, control
 * characters) with a 400 problem before any route is matched; the admin API and /mcp then each decide who may pass
 * in their own filter chain, on the decoded path the router matches ({@code PathPattern}), so no spelling of a
 * route escapes its chain. Whatever no chain claims is denied here, except the health check.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.REACTIVE)
public class EdgeSecurityConfiguration {

    /** The health check stays readable without credentials, for load balancers and orchestrators. */
    public static final String[] PUBLIC_PATHS = {"/actuator/health", "/actuator/health/**"};

    private static final Logger log = LoggerFactory.getLogger(EdgeSecurityConfiguration.class);

    /**
     * No observations from Spring Security: it would wrap each filter of each request, and the authentication and
     * authorization managers, in observations for tracing and for metrics of its own filters that nobody reads. Only
     * turning them off in the observation registry (management.observations.enable) still left the wrapping, about
     * 2 % of the broker's CPU under HotPathBenchmark; these settings leave the chain unwrapped. The HTTP server's own
     * request metrics stay (docs/metrics.md).
     */
    @Bean
    SecurityObservationSettings noSecurityObservations() {
        return SecurityObservationSettings.noObservations();
    }

    /**
     * Spring Security's defaults, stated here so that nobody loosens them without seeing this comment. The header rules
     * are the defaults too, checked without regular expressions ({@link FirewallCharacters}).
     */
    @Bean
    ServerWebExchangeFirewall strictFirewall() {
        StrictServerWebExchangeFirewall firewall = new StrictServerWebExchangeFirewall();
        firewall.setAllowedHeaderNames(FirewallCharacters.HEADER_NAMES);
        firewall.setAllowedHeaderValues(FirewallCharacters.HEADER_VALUES);
        return firewall;
    }

    /**
     * A refused request gets a problem naming what was refused (the path, a header, a query parameter), never the
     * firewall's own words: they can quote a header value, a credential among them.
     */
    @Bean
    ServerExchangeRejectedHandler firewallRefusal(ProblemWriter problems) {
        return (exchange, rejected) -> {
            String message = String.valueOf(rejected.getMessage());
            String field = message.contains("header") ? "headers" : message.contains("parameter") ? "query" : "path";
            log.debug("Request refused by the firewall ({}): {} {}", field, exchange.getRequest().getMethod(),
                    exchange.getRequest().getPath());
            return problems.write(exchange, ProblemWriter.problem(HttpStatus.BAD_REQUEST, "rejected-request",
                    "Bad request", "the request's " + field + " is refused: write the path plainly, without path "
                            + "parameters (';'), encoded '/', '\\', '.' or '%', empty or dot segments, and no control "
                            + "characters in the path, headers or query", field));
        };
    }

    /**
     * Everything that no other chain claims: the health check is public, the rest does not exist for a client (404),
     * whatever the router might have had there.
     */
    @Bean
    @Order(Ordered.LOWEST_PRECEDENCE)
    SecurityWebFilterChain everythingElse(ServerHttpSecurity http, ProblemWriter problems) {
        ServerAuthenticationEntryPoint notFound = (exchange, denied) -> problems.write(exchange, notFoundProblem());
        ServerAccessDeniedHandler notFoundEither = (exchange, denied) -> problems.write(exchange, notFoundProblem());
        return stateless(http)
                .authorizeExchange(exchanges -> exchanges
                        .pathMatchers(PUBLIC_PATHS).permitAll()
                        .anyExchange().denyAll())
                .exceptionHandling(handling -> handling.authenticationEntryPoint(notFound)
                        .accessDeniedHandler(notFoundEither))
                .build();
    }

    /**
     * The settings every chain here shares. No sessions, no saved requests, no login page, no HTTP Basic: every
     * request carries its own bearer credential. No CSRF tokens either: CSRF abuses credentials a browser adds by
     * itself (cookies, Basic), and a bearer token is added only by code that already holds it, so a forged
     * cross-site request arrives without one and is refused.
     */
    public static ServerHttpSecurity stateless(ServerHttpSecurity http) {
        return http
                .csrf(ServerHttpSecurity.CsrfSpec::disable)
                .httpBasic(ServerHttpSecurity.HttpBasicSpec::disable)
                .formLogin(ServerHttpSecurity.FormLoginSpec::disable)
                .logout(ServerHttpSecurity.LogoutSpec::disable)
                .requestCache(cache -> cache.requestCache(NoOpServerRequestCache.getInstance()))
                .securityContextRepository(NoOpServerSecurityContextRepository.getInstance());
    }

    private static ProblemDetail notFoundProblem() {
        return ProblemWriter.problem(HttpStatus.NOT_FOUND, "not-found", "Not found",
                "nothing here; the admin API is under /admin/v1 (see /admin/v1/openapi.json), MCP at /mcp", null);
    }
}
