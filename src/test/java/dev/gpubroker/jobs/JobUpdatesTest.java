package dev.gpubroker.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

/** Jobs change on several threads at once (the engine's steps, cancels); a subscribed client hears every change. */
class JobUpdatesTest {

    @Test
    void everyChangeIsAnnouncedWhenManyJobsChangeAtOnce() throws Exception {
        JobUpdates updates = new JobUpdates();
        AtomicInteger heard = new AtomicInteger();
        updates.changes().subscribe(jobId -> heard.incrementAndGet());

        try (ExecutorService steps = Executors.newFixedThreadPool(8)) {
            for (int thread = 0; thread < 8; thread++) {
                int first = thread;
                steps.submit(() -> {
                    for (int i = first; i < 4000; i += 8) {
                        updates.publish("job_" + i);
                    }
                });
            }
            steps.shutdown();
            assertThat(steps.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        }

        // Delivered on the publishing thread: all of them are in once the steps are done.
        assertThat(heard.get()).as("changes announced, of 4000").isEqualTo(4000);
    }
}
