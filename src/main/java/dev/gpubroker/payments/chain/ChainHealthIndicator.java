package dev.gpubroker.payments.chain;

import java.time.Duration;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.ReactiveHealthIndicator;
import org.springframework.stereotype.Component;

import dev.gpubroker.platform.faults.Fault;
import dev.gpubroker.platform.faults.Faults;
import reactor.core.publisher.Mono;

/**
 * The chain's part of the health check ({@code chain}): UP while the node answers {@code eth_chainId} with the chain
 * checked at start, within {@value #TIMEOUT_SECONDS} s; DOWN when it does not answer, refuses, or answers for another
 * chain. The answer is shared for {@link #REUSE} (concurrent checks included), so that the public health check costs
 * the node at most one call a second however often it is asked. Details name no host or URL.
 */
@Component
public class ChainHealthIndicator implements ReactiveHealthIndicator {

    private static final long TIMEOUT_SECONDS = 2;
    static final Duration REUSE = Duration.ofSeconds(1);

    private final Mono<Health> check;

    @Autowired
    public ChainHealthIndicator(PaymentChain paymentChain) {
        this(paymentChain.context().client(), paymentChain.context().chainId(), Duration.ofSeconds(TIMEOUT_SECONDS));
    }

    ChainHealthIndicator(ChainClient client, long expectedChainId, Duration timeout) {
        this.check = Mono.defer(client::chainId)
                .timeout(timeout)
                .map(chainId -> chainId == expectedChainId ? Health.up().withDetail("chainId", chainId).build()
                        : Health.down().withDetail("reason", "the node answers for chain " + chainId + ", not "
                                + expectedChainId).build())
                .onErrorResume(error -> Mono.just(Health.down().withDetail("reason", reason(error, timeout)).build()))
                .cache(REUSE);
    }

    @Override
    public Mono<Health> health() {
        return check;
    }

    /** Why, without the node's own words: they can name its host. */
    private static String reason(Throwable error, Duration timeout) {
        if (Faults.classify(error) == Fault.TIMEOUT) {
            return "no answer within " + timeout.toMillis() + " ms";
        }
        if (error instanceof ChainRpcException) {
            return "the node answered eth_chainId with an error";
        }
        return "the node cannot be reached (" + error.getClass().getSimpleName() + ")";
    }
}
