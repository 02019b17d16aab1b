package dev.gpubroker.payments;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;

import org.junit.jupiter.api.Test;

/** The batched settlement's settings: off unless a window is given, and bounded both ways. */
class SettlementBatchingSettingsTest {

    @Test
    void batchingIsOffWithoutAWindow() {
        assertThat(SettlementBatching.off().enabled()).isFalse();
        assertThat(new SettlementBatching(Duration.ofSeconds(2), 20).enabled()).isTrue();
    }

    @Test
    void aWindowIsNeverNegativeNorLongerThanAMinute() {
        assertThatThrownBy(() -> new SettlementBatching(Duration.ofSeconds(-1), 20))
                .hasMessageContaining("settle-batch.window");
        assertThatThrownBy(() -> new SettlementBatching(Duration.ofSeconds(61), 20))
                .hasMessageContaining("at most 60 s");
    }

    @Test
    void aBatchHoldsBetweenTwoAndAHundredSettlements() {
        assertThatThrownBy(() -> new SettlementBatching(Duration.ofSeconds(2), 1)).hasMessageContaining("between 2 and 100");
        assertThatThrownBy(() -> new SettlementBatching(Duration.ofSeconds(2), 101)).hasMessageContaining("between 2 and 100");
        assertThat(new SettlementBatching(Duration.ofSeconds(2), 100).max()).isEqualTo(100);
    }
}
