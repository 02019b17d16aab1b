package dev.gpubroker.support;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.web.method.HandlerMethod;
import org.springframework.web.reactive.HandlerMapping;
import org.springframework.web.reactive.function.server.HandlerFunction;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;

import reactor.core.publisher.Mono;

/**
 * Tells a test whether a request got as far as a controller method or a router function (the admin API, /mcp): a
 * filter around everything else notes the handler the dispatcher chose for each request that carries a
 * {@value #PROBE_HEADER} header. Import {@link Configuration} into the test.
 */
public final class HandlerReach {

    public static final String PROBE_HEADER = "X-Test-Probe";

    private final Set<String> reached = ConcurrentHashMap.newKeySet();

    public boolean reached(String probe) {
        return reached.contains(probe);
    }

    private void note(String probe, ServerWebExchange exchange) {
        Object handler = exchange.getAttribute(HandlerMapping.BEST_MATCHING_HANDLER_ATTRIBUTE);
        if (handler instanceof HandlerMethod || handler instanceof HandlerFunction<?>) {
            reached.add(probe);
        }
    }

    @TestConfiguration(proxyBeanMethods = false)
    public static class Configuration {

        @Bean
        HandlerReach handlerReach() {
            return new HandlerReach();
        }

        @Bean
        @Order(Ordered.HIGHEST_PRECEDENCE)
        WebFilter handlerReachRecorder(HandlerReach reach) {
            return (exchange, chain) -> {
                String probe = exchange.getRequest().getHeaders().getFirst(PROBE_HEADER);
                if (probe == null) {
                    return chain.filter(exchange);
                }
                // Noted before the answer is committed, so a client that has read the answer can ask at once.
                exchange.getResponse().beforeCommit(() -> Mono.fromRunnable(() -> reach.note(probe, exchange)));
                return chain.filter(exchange).doFinally(signal -> reach.note(probe, exchange));
            };
        }
    }
}
