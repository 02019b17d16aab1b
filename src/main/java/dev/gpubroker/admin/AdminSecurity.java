package dev.gpubroker.admin;

import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.security.authentication.BadCredentialsException;
import org.springframework.security.authentication.ReactiveAuthenticationManager;
import org.springframework.security.config.web.server.SecurityWebFiltersOrder;
import org.springframework.security.config.web.server.ServerHttpSecurity;
import org.springframework.security.web.server.SecurityWebFilterChain;
import org.springframework.security.web.server.authentication.AuthenticationWebFilter;
import org.springframework.security.web.server.util.matcher.ServerWebExchangeMatchers;
import org.springframework.web.server.ServerWebExchange;

import dev.gpubroker.web.BearerCredential;
import dev.gpubroker.web.EdgeSecurityConfiguration;
import dev.gpubroker.web.ProblemWriter;
import reactor.core.publisher.Mono;

/**
 * Who may use the admin API: every request whose decoded path falls under {@value AdminRoutes#PREFIX} (the same
 * matching the router does, so no other spelling of a route gets past) carries the admin token as a bearer token, or
 * gets a 401 problem with a challenge. Only the API's description is readable without it. A request a browser marks as
 * coming from another site is refused first ({@link AdminCrossSiteRefusal}).
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.REACTIVE)
class AdminSecurity {

    static final String ROLE = "ROLE_ADMIN";
    private static final String CHALLENGE = "Bearer realm=\"gpu-broker-admin\"";

    @Bean
    @Order(10)
    SecurityWebFilterChain adminApiDescription(ServerHttpSecurity http) {
        return EdgeSecurityConfiguration.stateless(http)
                .securityMatcher(ServerWebExchangeMatchers.pathMatchers(HttpMethod.GET, AdminRoutes.OPENAPI))
                .authorizeExchange(exchanges -> exchanges.anyExchange().permitAll())
                .build();
    }

    @Bean
    @Order(11)
    SecurityWebFilterChain adminApi(ServerHttpSecurity http, AdminToken token, ProblemWriter problems) {
        AuthenticationWebFilter authentication = new AuthenticationWebFilter(tokenCheck(token));
        authentication.setServerAuthenticationConverter(BearerCredential.fromAuthorizationHeader());
        authentication.setAuthenticationFailureHandler((filterExchange, refused) -> unauthorized(problems,
                filterExchange.getExchange(), CHALLENGE + ", error=\"invalid_token\"", "the admin token is wrong"));
        authentication.setAuthenticationSuccessHandler((filterExchange, admin) -> {
            filterExchange.getExchange().getAttributes().put(AdminAuditFilter.AUTHENTICATED_ATTRIBUTE, Boolean.TRUE);
            return filterExchange.getChain().filter(filterExchange.getExchange());
        });
        return EdgeSecurityConfiguration.stateless(http)
                .securityMatcher(ServerWebExchangeMatchers.pathMatchers(AdminRoutes.ALL))
                .addFilterBefore(new AdminCrossSiteRefusal(problems), SecurityWebFiltersOrder.AUTHENTICATION)
                .addFilterAt(authentication, SecurityWebFiltersOrder.AUTHENTICATION)
                .authorizeExchange(exchanges -> exchanges.anyExchange().hasAuthority(ROLE))
                .exceptionHandling(handling -> handling
                        .authenticationEntryPoint((exchange, missing) -> unauthorized(problems, exchange, CHALLENGE,
                                "send the admin token as 'Authorization: Bearer <token>' (GPUBROKER_ADMIN_TOKEN or "
                                        + "<data>/admin.token)"))
                        .accessDeniedHandler((exchange, denied) -> problems.write(exchange, ProblemWriter.problem(
                                HttpStatus.FORBIDDEN, "forbidden", "Forbidden", "only the operator may do this", null))))
                .build();
    }

    /** The token is compared in constant time ({@link AdminToken#matches}); what was sent is never echoed or logged. */
    private static ReactiveAuthenticationManager tokenCheck(AdminToken token) {
        return presented -> Mono.fromSupplier(() -> presented instanceof BearerCredential bearer && token.matches(bearer.token()))
                .flatMap(matches -> matches
                        ? Mono.just(BearerCredential.verified("admin", ROLE))
                        : Mono.error(new BadCredentialsException("the admin token is wrong")));
    }

    private static Mono<Void> unauthorized(ProblemWriter problems, ServerWebExchange exchange, String challenge,
            String detail) {
        exchange.getResponse().getHeaders().set(HttpHeaders.WWW_AUTHENTICATE, challenge);
        return problems.write(exchange, ProblemWriter.problem(HttpStatus.UNAUTHORIZED, "unauthorized", "Unauthorized",
                detail, null));
    }
}
