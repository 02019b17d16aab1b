package dev.gpubroker.web;

import java.util.Collection;
import java.util.List;

import org.springframework.http.HttpHeaders;
import org.springframework.security.authentication.AbstractAuthenticationToken;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.core.authority.AuthorityUtils;
import org.springframework.security.web.server.authentication.ServerAuthenticationConverter;
import org.springframework.web.server.ServerWebExchange;

import reactor.core.publisher.Mono;

/**
 * A bearer token on its way to being checked ({@link #presented}), or the principal it proved ({@link #verified}). The
 * token itself never appears in {@link #toString()}, so it cannot reach a log by accident.
 */
public final class BearerCredential extends AbstractAuthenticationToken {

    private static final String SCHEME = "Bearer ";

    private final String principal;
    private transient String token;

    private BearerCredential(String principal, String token, Collection<? extends GrantedAuthority> authorities,
            boolean authenticated) {
        super(authorities);
        this.principal = principal;
        this.token = token;
        super.setAuthenticated(authenticated);
    }

    /** What a request presented, not yet checked. */
    public static BearerCredential presented(String token) {
        return new BearerCredential(null, token, List.of(), false);
    }

    /** A checked credential: who it proved to be and what that one may do ({@code ROLE_...}). */
    public static BearerCredential verified(String principal, String... roles) {
        return new BearerCredential(principal, null, AuthorityUtils.createAuthorityList(roles), true);
    }

    /**
     * Reads {@code Authorization: Bearer <token>}; no such header (or another scheme) gives nothing, so the route's
     * entry point answers 401 with its challenge.
     */
    public static ServerAuthenticationConverter fromAuthorizationHeader() {
        return exchange -> Mono.justOrEmpty(token(exchange)).map(BearerCredential::presented);
    }

    /** The bearer token of the request's {@code Authorization} header, or null when it shows none. */
    public static String token(ServerWebExchange exchange) {
        String authorization = exchange.getRequest().getHeaders().getFirst(HttpHeaders.AUTHORIZATION);
        if (authorization == null || !authorization.regionMatches(true, 0, SCHEME, 0, SCHEME.length())) {
            return null;
        }
        return authorization.substring(SCHEME.length()).strip();
    }

    public String token() {
        return token;
    }

    @Override
    public Object getCredentials() {
        return token;
    }

    @Override
    public Object getPrincipal() {
        return principal;
    }

    @Override
    public void setAuthenticated(boolean authenticated) {
        if (authenticated && !isAuthenticated()) {
            throw new IllegalArgumentException("a bearer credential is verified only by its authentication manager");
        }
        super.setAuthenticated(authenticated);
    }

    @Override
    public void eraseCredentials() {
        token = null;
        super.eraseCredentials();
    }

    @Override
    public String toString() {
        return "BearerCredential[principal=" + principal + ", authorities=" + getAuthorities() + ", token="
                + (token == null ? "none" : "<redacted>") + "]";
    }
}
