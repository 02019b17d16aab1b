package dev.gpubroker.web;

import java.util.concurrent.atomic.AtomicBoolean;

import org.reactivestreams.Publisher;
import org.springframework.core.Ordered;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.http.HttpHeaders;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.http.server.reactive.ServerHttpRequestDecorator;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.http.server.reactive.ServerHttpResponseDecorator;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A request refused before anyone read its body (no credential, a path the firewall refused, a route that does not
 * exist, a body over its limit) still has that body on the wire. Answering and closing the connection on it resets
 * the connection, and a client still sending its body never reads the answer. So, before such an answer is written,
 * the unread body is read and dropped, up to {@link BoundedBody#DRAIN_BYTES_MAX} bytes (past that the connection is
 * given up), and the connection stays usable.
 */
@Component
public class UnreadBodyDrain implements WebFilter, Ordered {

    @Override
    public int getOrder() {
        // Outside everything: whoever answers, answers through this.
        return Ordered.HIGHEST_PRECEDENCE;
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        ServerHttpRequest request = exchange.getRequest();
        HttpHeaders headers = request.getHeaders();
        boolean hasBody = headers.getContentLength() > 0 || headers.getFirst(HttpHeaders.TRANSFER_ENCODING) != null;
        // A client that asked to be told to continue sends nothing until it is: there is nothing to drain.
        boolean waitsToContinue = "100-continue".equalsIgnoreCase(headers.getFirst(HttpHeaders.EXPECT));
        if (!hasBody || waitsToContinue) {
            return chain.filter(exchange);
        }
        AtomicBoolean taken = new AtomicBoolean();
        ServerHttpRequest watched = new ServerHttpRequestDecorator(request) {
            @Override
            public Flux<DataBuffer> getBody() {
                taken.set(true);
                return super.getBody();
            }
        };
        Mono<Void> drainIfUnread = Mono.defer(() -> taken.compareAndSet(false, true) ? drain(request) : Mono.empty());
        ServerHttpResponse draining = new ServerHttpResponseDecorator(exchange.getResponse()) {
            @Override
            public Mono<Void> writeWith(Publisher<? extends DataBuffer> body) {
                return drainIfUnread.then(super.writeWith(body));
            }

            @Override
            public Mono<Void> writeAndFlushWith(Publisher<? extends Publisher<? extends DataBuffer>> body) {
                return drainIfUnread.then(super.writeAndFlushWith(body));
            }

            @Override
            public Mono<Void> setComplete() {
                return drainIfUnread.then(super.setComplete());
            }
        };
        return chain.filter(exchange.mutate().request(watched).response(draining).build())
                .then(drainIfUnread);
    }

    private static Mono<Void> drain(ServerHttpRequest request) {
        long[] seen = {0};
        return request.getBody()
                .doOnNext(buffer -> {
                    seen[0] += buffer.readableByteCount();
                    DataBufferUtils.release(buffer);
                })
                .takeUntil(released -> seen[0] > BoundedBody.DRAIN_BYTES_MAX)
                .onErrorResume(error -> Mono.empty())
                .then();
    }
}
