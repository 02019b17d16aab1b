package dev.gpubroker.admin.console;

import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpMethod;
import org.springframework.security.config.web.server.ServerHttpSecurity;
import org.springframework.security.web.server.SecurityWebFilterChain;
import org.springframework.security.web.server.header.ReferrerPolicyServerHttpHeadersWriter.ReferrerPolicy;
import org.springframework.security.web.server.header.XFrameOptionsServerHttpHeadersWriter;
import org.springframework.security.web.server.util.matcher.ServerWebExchangeMatchers;

import dev.gpubroker.web.EdgeSecurityConfiguration;

/**
 * The console's files are public (they hold no data; every datum comes from the admin API with the token), readable
 * with GET only, and served with what keeps the page from being turned against the operator: no framing by any site
 * (clickjacking: {@code frame-ancestors 'none'} and {@code X-Frame-Options: DENY}), scripts, styles and connections
 * from this origin only, no inline script, no plug-ins, no {@code <base>}, forms only to itself, and no referrer.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.REACTIVE)
class ConsoleSecurity {

    static final String CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; "
            + "img-src 'self' data:; font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
            + "form-action 'self'; object-src 'none'";

    @Bean
    @Order(12)
    SecurityWebFilterChain console(ServerHttpSecurity http) {
        return EdgeSecurityConfiguration.stateless(http)
                .securityMatcher(ServerWebExchangeMatchers.pathMatchers(HttpMethod.GET, ConsoleRoutes.PATH,
                        ConsoleRoutes.PATH + "/**"))
                .authorizeExchange(exchanges -> exchanges.anyExchange().permitAll())
                .headers(headers -> headers
                        .frameOptions(frame -> frame.mode(XFrameOptionsServerHttpHeadersWriter.Mode.DENY))
                        .contentSecurityPolicy(policy -> policy.policyDirectives(CONTENT_SECURITY_POLICY))
                        .referrerPolicy(referrer -> referrer.policy(ReferrerPolicy.NO_REFERRER)))
                .build();
    }
}
