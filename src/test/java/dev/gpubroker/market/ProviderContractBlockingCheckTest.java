package dev.gpubroker.market;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import reactor.core.publisher.Mono;

/** The contract's "nothing blocks" check catches a provider that blocks, and lets one that waits without blocking pass. */
class ProviderContractBlockingCheckTest {

    @Test
    void aCallThatSleepsOnItsThreadFailsTheContract() {
        assertThatThrownBy(() -> ProviderContract.onNonBlockingThread(() -> Mono.fromCallable(() -> {
            Thread.sleep(5);
            return "answer";
        }))).isInstanceOf(AssertionError.class).hasMessageContaining("blocked a thread");
    }

    @Test
    void aCallThatWaitsOnATimerPasses() {
        assertThat(ProviderContract.onNonBlockingThread(() -> Mono.delay(Duration.ofMillis(20)).thenReturn("answer")))
                .isEqualTo("answer");
    }
}
