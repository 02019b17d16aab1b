package dev.gpubroker.market.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

class LocalGpuAssignmentsTest {

    private static final LocalOffer FOUR_H100 = new LocalOffer("local-h100", "H100", 80, List.of(0, 1, 2, 3));

    private final GpuAssignments assignments = new GpuAssignments();

    @Test
    void aJobGetsTheLowestFreeGpusAndTheNextJobTheOnesAfter() {
        assertThat(gpusOf(assignments.assign("job_a", FOUR_H100, 2, Optional.empty()))).containsExactly(0, 1);
        assertThat(gpusOf(assignments.assign("job_b", FOUR_H100, 1, Optional.empty()))).containsExactly(2);
        assertThat(assignments.inUse()).containsExactlyInAnyOrder(0, 1, 2);
    }

    @Test
    void aJobIsRefusedWhenTooFewGpusAreFreeAndTakesNothing() {
        assignments.assign("job_a", FOUR_H100, 3, Optional.empty());

        assertThat(assignments.assign("job_b", FOUR_H100, 2, Optional.empty())).isEmpty();
        assertThat(assignments.inUse()).containsExactlyInAnyOrder(0, 1, 2);
    }

    @Test
    void assigningTheSameJobAgainGivesTheSameGpus() {
        Optional<ContainerRuntime> docker = Optional.of(new ContainerRuntime(ContainerRuntime.Kind.DOCKER, "/usr/bin/docker"));
        GpuAssignment first = assignments.assign("job_a", FOUR_H100, 2, docker).orElseThrow();

        assertThat(assignments.assign("job_a", FOUR_H100, 2, docker)).contains(first);
        assertThat(assignments.inUse()).containsExactlyInAnyOrder(0, 1);
    }

    @Test
    void freedGpusGoToTheNextJob() {
        assignments.assign("job_a", FOUR_H100, 2, Optional.empty());
        assignments.assign("job_b", FOUR_H100, 2, Optional.empty());

        assignments.free("job_a");
        assignments.free("job_a");

        assertThat(gpusOf(assignments.assign("job_c", FOUR_H100, 2, Optional.empty()))).containsExactly(0, 1);
        assertThat(assignments.find("job_a")).isEmpty();
    }

    @Test
    void aRecordNamingAGpuAnotherJobHoldsIsNotRestored() {
        assignments.assign("job_a", FOUR_H100, 2, Optional.empty());

        assertThat(assignments.restore(onHost("job_old", List.of(1, 2)))).isFalse();
        assertThat(assignments.restore(onHost("job_kept", List.of(2, 3)))).isTrue();
        assertThat(assignments.assign("job_b", FOUR_H100, 1, Optional.empty())).isEmpty();
    }

    @Test
    void concurrentLaunchesNeverShareAGpu() throws InterruptedException {
        int jobs = 16;
        List<Integer> given = new CopyOnWriteArrayList<>();
        List<Integer> refused = new CopyOnWriteArrayList<>();
        CountDownLatch start = new CountDownLatch(1);
        try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
            for (int job = 0; job < jobs; job++) {
                String jobId = "job_" + job;
                int number = job;
                pool.submit(() -> {
                    start.await();
                    assignments.assign(jobId, FOUR_H100, 1, Optional.empty()).ifPresentOrElse(
                            assignment -> given.add(assignment.gpuIndices().getFirst()),
                            () -> refused.add(number));
                    return null;
                });
            }
            start.countDown();
            pool.shutdown();
            assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        }

        // Four GPUs, four jobs given one each: a GPU given twice would show as a repeated index.
        assertThat(given).containsExactlyInAnyOrder(0, 1, 2, 3);
        assertThat(refused).hasSize(jobs - 4);
    }

    private static GpuAssignment onHost(String jobId, List<Integer> gpuIndices) {
        return new GpuAssignment(jobId, "local-h100", gpuIndices, Optional.empty());
    }

    private static List<Integer> gpusOf(Optional<GpuAssignment> assignment) {
        return assignment.orElseThrow().gpuIndices();
    }
}
