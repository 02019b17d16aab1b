package dev.gpubroker.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;

import org.junit.jupiter.api.Test;

/** What is billed when a provider's report and the broker's own sightings of a job disagree. */
class MeteringTest {

    private static final Instant ASKED = Instant.parse("2026-11-30T12:00:00Z");
    private static final Instant ANSWERED = ASKED.plusMillis(300);

    @Test
    void aStartReportedAfterTheAnswerThatSaidTheJobRunsIsBilledFromThatAnswer() {
        assertThat(Metering.billedStart(ANSWERED.plusSeconds(3600), ANSWERED)).isEqualTo(ANSWERED);
        assertThat(Metering.billedStart(ASKED.minusSeconds(40), ANSWERED)).isEqualTo(ASKED.minusSeconds(40));
    }

    @Test
    void anEndReportedBeforeTheLastSightingOfTheJobRunningIsBilledToThatSighting() {
        Instant lastSeenRunning = ASKED.minusSeconds(10);

        assertThat(Metering.billedEnd(ASKED.minusSeconds(600), lastSeenRunning, ANSWERED)).isEqualTo(lastSeenRunning);
        assertThat(Metering.billedEnd(ASKED.minusSeconds(4), lastSeenRunning, ANSWERED))
                .as("an end between the last sighting and the answer is believed").isEqualTo(ASKED.minusSeconds(4));
        assertThat(Metering.billedEnd(ANSWERED.plusSeconds(3600), lastSeenRunning, ANSWERED))
                .as("never after the answer that said it ended").isEqualTo(ANSWERED);
        assertThat(Metering.billedEnd(ASKED.minusSeconds(600), null, ANSWERED))
                .as("never seen running (started and ended between two polls): the report").isEqualTo(ASKED.minusSeconds(600));
    }

    @Test
    void gpuSecondsRoundUpAndNeverGoNegative() {
        assertThat(Metering.gpuSeconds(ASKED, ASKED.plusMillis(1001), 2)).isEqualTo(4);
        assertThat(Metering.gpuSeconds(ASKED, ASKED.minusSeconds(5), 2)).isZero();
    }
}
