package dev.gpubroker.mcp.http;

import java.util.List;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.proc.DefaultJOSEObjectTypeVerifier;

import org.springframework.security.authentication.BadCredentialsException;
import org.springframework.security.authentication.ReactiveAuthenticationManager;
import org.springframework.security.core.Authentication;
import org.springframework.security.oauth2.core.DelegatingOAuth2TokenValidator;
import org.springframework.security.oauth2.jwt.JwtClaimNames;
import org.springframework.security.oauth2.jwt.JwtClaimValidator;
import org.springframework.security.oauth2.jwt.JwtException;
import org.springframework.security.oauth2.jwt.JwtValidationException;
import org.springframework.security.oauth2.jwt.JwtIssuerValidator;
import org.springframework.security.oauth2.jwt.JwtTimestampValidator;
import org.springframework.security.oauth2.jwt.JwtTypeValidator;
import org.springframework.security.oauth2.jwt.NimbusReactiveJwtDecoder;
import org.springframework.security.oauth2.jwt.ReactiveJwtDecoder;

import dev.gpubroker.config.StartupRefusal;
import dev.gpubroker.identity.Agent;
import dev.gpubroker.identity.AgentService;
import dev.gpubroker.web.BearerCredential;
import reactor.core.publisher.Mono;

/**
 * The credentials /mcp takes: an agent's API key ({@code gpb_...}, looked up by its hash), and, in the OAuth
 * resource-server mode, a JWT access token from the operator's authorization server: signed by a key of its JWK set,
 * issued by the configured issuer, unexpired, for this resource (audience), naming an existing agent in the configured
 * claim. Either proves one agent; nothing of the token is ever logged or echoed.
 */
final class AgentCredentials implements ReactiveAuthenticationManager {

    private final AgentService agents;
    private final ReactiveJwtDecoder jwts;
    private final String agentClaim;

    private AgentCredentials(AgentService agents, ReactiveJwtDecoder jwts, String agentClaim) {
        this.agents = agents;
        this.jwts = jwts;
        this.agentClaim = agentClaim;
    }

    static AgentCredentials from(AgentService agents, McpAuthProperties auth) {
        if (!auth.oauth()) {
            return new AgentCredentials(agents, null, null);
        }
        if (auth.resource().isBlank() || auth.issuer().isBlank()) {
            throw new StartupRefusal("gpubroker.mcp.auth.jwk-set-uri turns on OAuth tokens for /mcp, which also needs "
                    + "gpubroker.mcp.auth.resource (this server's /mcp URL as clients reach it: the audience tokens must "
                    + "name) and gpubroker.mcp.auth.issuer (the authorization server that issues them)");
        }
        // Access tokens as RFC 9068 types them (at+jwt), or as plain JWTs: authorization servers send either.
        NimbusReactiveJwtDecoder decoder = NimbusReactiveJwtDecoder.withJwkSetUri(auth.jwkSetUri())
                .jwtProcessorCustomizer(processor -> processor.setJWSTypeVerifier(new DefaultJOSEObjectTypeVerifier<>(
                        JOSEObjectType.JWT, new JOSEObjectType("at+jwt"), null)))
                .build();
        JwtTypeValidator types = new JwtTypeValidator("JWT", "at+jwt");
        types.setAllowEmpty(true);
        decoder.setJwtValidator(new DelegatingOAuth2TokenValidator<>(new JwtTimestampValidator(),
                new JwtIssuerValidator(auth.issuer()), types,
                new JwtClaimValidator<List<String>>(JwtClaimNames.AUD,
                        audience -> audience != null && audience.contains(auth.resource()))));
        return new AgentCredentials(agents, decoder, auth.agentClaim());
    }

    @Override
    public Mono<Authentication> authenticate(Authentication presented) {
        if (!(presented instanceof BearerCredential bearer) || bearer.token() == null) {
            return Mono.error(new BadCredentialsException("unknown agent API key"));
        }
        String token = bearer.token();
        Mono<Agent> agent = jwts != null && looksLikeJwt(token) ? fromAccessToken(token)
                : agents.authenticate(token).switchIfEmpty(Mono.error(() -> new BadCredentialsException("unknown agent API key")));
        return agent.map(found -> BearerCredential.verified(found.agentId(), McpSecurity.ROLE));
    }

    private Mono<Agent> fromAccessToken(String token) {
        return jwts.decode(token)
                .onErrorMap(JwtException.class, refused -> new BadCredentialsException("invalid access token: "
                        + reason(refused)))
                .flatMap(jwt -> {
                    String agentId = jwt.getClaimAsString(agentClaim);
                    if (agentId == null || agentId.isBlank()) {
                        return Mono.error(new BadCredentialsException("the access token names no agent (claim '"
                                + agentClaim + "')"));
                    }
                    return agents.find(agentId).switchIfEmpty(Mono.error(() -> new BadCredentialsException(
                            "the access token's agent is not known here")));
                });
    }

    /** The validators' own descriptions (expired, wrong audience or issuer), or the kind of failure; never the token. */
    private static String reason(JwtException refused) {
        if (refused instanceof JwtValidationException invalid && !invalid.getErrors().isEmpty()) {
            return invalid.getErrors().iterator().next().getDescription();
        }
        return "its signature, format or key could not be verified";
    }

    /** Three base64url parts: a JWS compact serialization. API keys ({@code gpb_...}) have no dots. */
    private static boolean looksLikeJwt(String token) {
        return token.chars().filter(c -> c == '.').count() == 2;
    }
}
