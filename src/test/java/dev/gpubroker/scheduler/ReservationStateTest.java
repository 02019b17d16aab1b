package dev.gpubroker.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.EnumSet;

import org.junit.jupiter.api.Test;

class ReservationStateTest {

    @Test
    void aHeldReservationCanBePaidExpireOrBeCancelledAndNothingElse() {
        assertThat(EnumSet.allOf(ReservationState.class).stream().filter(ReservationState.HELD::canMoveTo))
                .containsExactlyInAnyOrder(ReservationState.PAID, ReservationState.EXPIRED, ReservationState.CANCELLED);
    }

    @Test
    void finalStatesNeverChange() {
        for (ReservationState done : EnumSet.of(ReservationState.SETTLED, ReservationState.REFUNDED,
                ReservationState.EXPIRED, ReservationState.CANCELLED)) {
            assertThat(EnumSet.allOf(ReservationState.class).stream().noneMatch(done::canMoveTo)).as(done.name()).isTrue();
            assertThat(done.isOpen()).isFalse();
        }
    }

    @Test
    void anExpiredOrUnpaidReservationCanNeverRun() {
        assertThat(ReservationState.EXPIRED.canMoveTo(ReservationState.RUNNING)).isFalse();
        assertThat(ReservationState.HELD.canMoveTo(ReservationState.RUNNING)).isFalse();
        assertThat(ReservationState.PAID.canMoveTo(ReservationState.RUNNING)).isTrue();
    }

    @Test
    void aReservationWhoseRefundIsDecidedCanNeverStartAJobOnlyBeRefunded() {
        assertThat(ReservationState.PAID.canMoveTo(ReservationState.REFUNDING)).isTrue();
        assertThat(EnumSet.allOf(ReservationState.class).stream().filter(ReservationState.REFUNDING::canMoveTo))
                .containsExactly(ReservationState.REFUNDED);
        assertThat(ReservationState.REFUNDING.isOpen()).isTrue();
    }

    @Test
    void aRunningReservationIsNeverRefundedByACancelOnlyByItsJobsOutcome() {
        assertThat(ReservationState.RUNNING.canMoveTo(ReservationState.REFUNDING)).isFalse();
    }

    @Test
    void wireNamesAreTheLowerCaseNamesClientsSee() {
        assertThat(ReservationState.APPROVAL_REQUIRED.wireName()).isEqualTo("approval_required");
        assertThat(ReservationState.fromWireName("held")).isEqualTo(ReservationState.HELD);
    }
}
