package dev.gpubroker.web;

import java.io.ByteArrayOutputStream;

import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.http.server.reactive.ServerHttpRequestDecorator;
import org.springframework.web.server.ServerWebExchange;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A request body read whole, up to a limit, before anything parses it. A body over the limit is read on (and dropped)
 * up to {@link #DRAIN_BYTES_MAX}, so that the client, still sending, can read the 413 instead of a reset connection;
 * past that the connection is given up.
 */
public final class BoundedBody {

    /** How much of a too-large body is read and thrown away so that its sender sees the answer. */
    public static final long DRAIN_BYTES_MAX = 8L * 1024 * 1024;

    /** The body was larger than the limit. */
    public static final class TooLarge extends RuntimeException {

        private final long limitBytes;

        TooLarge(long limitBytes) {
            super("request body larger than " + limitBytes + " bytes", null, false, false);
            this.limitBytes = limitBytes;
        }

        public long limitBytes() {
            return limitBytes;
        }
    }

    private BoundedBody() {
    }

    /** True when the request announces a body larger than the limit (Content-Length), before reading a byte of it. */
    public static boolean announcedOver(ServerHttpRequest request, long limitBytes) {
        return request.getHeaders().getContentLength() > limitBytes;
    }

    /** The whole body (empty when there is none), or {@link TooLarge}. */
    public static Mono<byte[]> read(ServerHttpRequest request, long limitBytes) {
        return Mono.defer(() -> {
            ByteArrayOutputStream collected = new ByteArrayOutputStream();
            long[] seen = {0};
            return request.getBody()
                    .doOnNext(buffer -> {
                        try {
                            int readable = buffer.readableByteCount();
                            seen[0] += readable;
                            if (seen[0] <= limitBytes) {
                                byte[] bytes = new byte[readable];
                                buffer.read(bytes);
                                collected.writeBytes(bytes);
                            }
                        } finally {
                            DataBufferUtils.release(buffer);
                        }
                    })
                    .takeUntil(released -> seen[0] > DRAIN_BYTES_MAX)
                    .then(Mono.fromCallable(() -> {
                        if (seen[0] > limitBytes) {
                            throw new TooLarge(limitBytes);
                        }
                        return collected.toByteArray();
                    }));
        });
    }

    /** The exchange again, its request's body now these bytes (so the handler reads what was checked). */
    public static ServerWebExchange withBody(ServerWebExchange exchange, byte[] body) {
        ServerHttpRequest request = new ServerHttpRequestDecorator(exchange.getRequest()) {
            @Override
            public Flux<DataBuffer> getBody() {
                return Flux.defer(() -> Flux.just(exchange.getResponse().bufferFactory().wrap(body)));
            }
        };
        return exchange.mutate().request(request).build();
    }
}
