package dev.gpubroker.payments.chain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;

import dev.gpubroker.support.AnvilNode;
import reactor.test.StepVerifier;

/** The chain's part of the health check, against a real anvil, a closed port and a port that never answers. */
class ChainHealthIndicatorTest {

    private static final Duration RPC_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration HEALTH_TIMEOUT = Duration.ofMillis(500);

    @Test
    void aNodeThatAnswersForTheExpectedChainIsUpAndGoesDownWhenItStops() throws Exception {
        AnvilNode anvil = AnvilNode.start();
        ChainHealthIndicator indicator;
        try {
            indicator = new ChainHealthIndicator(new ChainClient(anvil.rpcUrl(), RPC_TIMEOUT), AnvilNode.CHAIN_ID,
                    HEALTH_TIMEOUT);
            StepVerifier.create(indicator.health())
                    .assertNext(health -> assertThat(health.getStatus()).isEqualTo(Status.UP))
                    .verifyComplete();
        } finally {
            anvil.close();
        }

        ChainHealthIndicator stopped = indicator;
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(stopped.health().block(Duration.ofSeconds(5)).getStatus())
                        .isEqualTo(Status.DOWN));
    }

    @Test
    void aClosedPortIsDownWithAReasonThatNamesNoHost() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        ChainHealthIndicator indicator = new ChainHealthIndicator(
                new ChainClient("http://127.0.0.1:" + port, RPC_TIMEOUT), AnvilNode.CHAIN_ID, HEALTH_TIMEOUT);

        StepVerifier.create(indicator.health())
                .assertNext(health -> {
                    assertThat(health.getStatus()).isEqualTo(Status.DOWN);
                    assertThat(String.valueOf(health.getDetails())).contains("cannot be reached")
                            .doesNotContain("127.0.0.1").doesNotContain(String.valueOf(port));
                })
                .verifyComplete();
    }

    @Test
    void aNodeThatNeverAnswersIsDownAfterTheHealthTimeoutNotTheRpcTimeout() throws Exception {
        // Bound but never accepted: the connection is made (the backlog), and no answer ever comes.
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            ChainHealthIndicator indicator = new ChainHealthIndicator(
                    new ChainClient("http://127.0.0.1:" + silent.getLocalPort(), RPC_TIMEOUT), AnvilNode.CHAIN_ID,
                    HEALTH_TIMEOUT);

            long startNanos = System.nanoTime();
            Health health = indicator.health().block(Duration.ofSeconds(5));
            Duration elapsed = Duration.ofNanos(System.nanoTime() - startNanos);

            assertThat(health.getStatus()).isEqualTo(Status.DOWN);
            assertThat(health.getDetails()).containsEntry("reason", "no answer within 500 ms");
            assertThat(elapsed).isLessThan(Duration.ofSeconds(3));
        }
    }

    @Test
    void aNodeOfAnotherChainIsDown() throws Exception {
        try (AnvilNode anvil = AnvilNode.start()) {
            ChainHealthIndicator indicator = new ChainHealthIndicator(new ChainClient(anvil.rpcUrl(), RPC_TIMEOUT), 8453,
                    HEALTH_TIMEOUT);

            StepVerifier.create(indicator.health())
                    .assertNext(health -> {
                        assertThat(health.getStatus()).isEqualTo(Status.DOWN);
                        assertThat(health.getDetails()).containsEntry("reason", "the node answers for chain 31337, not 8453");
                    })
                    .verifyComplete();
        }
    }
}
