package dev.gpubroker.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.EnumSet;

import org.junit.jupiter.api.Test;

class JobStateTest {

    @Test
    void anEndedJobNeverChangesAgain() {
        for (JobState ended : EnumSet.of(JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED)) {
            assertThat(EnumSet.allOf(JobState.class).stream().noneMatch(ended::canMoveTo)).as(ended.name()).isTrue();
        }
    }

    @Test
    void aRunningJobEndsOrMovesToAnotherOfferButNeverRunsTwice() {
        assertThat(EnumSet.allOf(JobState.class).stream().filter(JobState.RUNNING::canMoveTo))
                .containsExactlyInAnyOrder(JobState.LAUNCHING, JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED);
    }

    @Test
    void onlyALaunchingJobStartsRunning() {
        assertThat(JobState.sourcesOf(JobState.RUNNING)).containsExactly(JobState.LAUNCHING);
        assertThat(JobState.sourcesOf(JobState.LAUNCHING)).containsExactlyInAnyOrder(JobState.LAUNCHING, JobState.RUNNING);
        assertThat(JobState.sourcesOf(JobState.COMPLETED)).containsExactlyInAnyOrder(JobState.LAUNCHING, JobState.RUNNING);
    }
}
