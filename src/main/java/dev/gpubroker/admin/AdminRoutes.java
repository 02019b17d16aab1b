package dev.gpubroker.admin;

import java.util.Comparator;
import java.util.List;
import java.util.Optional;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.stereotype.Component;
import org.springframework.web.reactive.HandlerMapping;
import org.springframework.web.reactive.result.method.RequestMappingInfo;
import org.springframework.web.reactive.result.method.annotation.RequestMappingHandlerMapping;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.util.pattern.PathPattern;

/**
 * Where the admin API lives, and which of its routes a request is for: the pattern the router matched when the
 * request reached a handler, or, for a request refused before that, the one it would have matched (both on the
 * decoded path, as the router reads it).
 */
@Component
class AdminRoutes {

    static final String PREFIX = "/admin/v1";
    /** The API's description holds no secret: readable without the token, so tools can discover the API. */
    static final String OPENAPI = PREFIX + "/openapi.json";
    /** Every path under the prefix, the prefix itself included. */
    static final String ALL = PREFIX + "/**";

    private final ObjectProvider<RequestMappingHandlerMapping> mappings;

    AdminRoutes(@Qualifier("requestMappingHandlerMapping") ObjectProvider<RequestMappingHandlerMapping> mappings) {
        this.mappings = mappings;
    }

    /** The route pattern of this request, such as {@code /admin/v1/agents/{agentId}/freeze}; empty when none fits. */
    Optional<String> patternOf(ServerWebExchange exchange) {
        if (exchange.getAttribute(HandlerMapping.BEST_MATCHING_PATTERN_ATTRIBUTE) instanceof PathPattern matched) {
            return Optional.of(matched.getPatternString());
        }
        RequestMappingHandlerMapping mapping = mappings.getIfAvailable();
        if (mapping == null) {
            return Optional.empty();
        }
        List<RequestMappingInfo> matches = mapping.getHandlerMethods().keySet().stream()
                .map(info -> info.getMatchingCondition(exchange))
                .filter(java.util.Objects::nonNull)
                .sorted((a, b) -> a.compareTo(b, exchange))
                .toList();
        return matches.stream().findFirst()
                .flatMap(info -> info.getPatternsCondition().getPatterns().stream()
                        .min(Comparator.comparing(PathPattern::getPatternString)))
                .map(PathPattern::getPatternString);
    }
}
