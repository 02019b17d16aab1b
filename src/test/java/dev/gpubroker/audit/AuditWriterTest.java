package dev.gpubroker.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.mockito.ArgumentMatchers.anyList;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/** The group commit of read audit lines, against a scripted repository: nothing lost, nothing twice, bounded. */
class AuditWriterTest {

    private final AuditRepository repository = mock(AuditRepository.class);
    private final List<List<AuditRepository.Counted>> commits = new CopyOnWriteArrayList<>();
    private final AuditWriter writer = new AuditWriter(repository);

    @AfterEach
    void stop() {
        writer.stop();
    }

    @Test
    void everyLineOfferedFromManyThreadsIsWrittenOnceAndAStopWaitsForTheLast() throws Exception {
        when(repository.insertAll(anyList())).thenAnswer(call -> {
            List<AuditRepository.Counted> batch = List.copyOf(call.getArgument(0));
            return Mono.delay(Duration.ofMillis(1)).then(Mono.fromRunnable(() -> commits.add(batch))).thenReturn(0L);
        });
        writer.start();
        List<Thread> threads = new ArrayList<>();
        for (int thread = 0; thread < 8; thread++) {
            int first = thread * 500;
            threads.add(Thread.ofPlatform().start(() -> {
                for (int i = first; i < first + 500; i++) {
                    assertThat(writer.offer(line("call-" + i))).isTrue();
                }
            }));
        }
        for (Thread thread : threads) {
            thread.join();
        }
        CountDownLatch stopped = new CountDownLatch(1);
        writer.stop(stopped::countDown);

        assertThat(stopped.await(10, TimeUnit.SECONDS)).as("the stop completes once everything is written").isTrue();
        List<String> written = commits.stream().flatMap(List::stream).map(counted -> counted.line().action()).toList();
        assertThat(written).hasSize(4000).doesNotHaveDuplicates();
        assertThat(commits).as("lines share commits").hasSizeLessThan(4000);
        assertThat(commits).allSatisfy(batch -> assertThat(batch)
                .hasSizeLessThanOrEqualTo(AuditWriter.ROWS_PER_STATEMENT_MAX));
    }

    /**
     * However many lines queued up while a commit was written, the next pass writes them all, in statements of bounded
     * size: a pass that took a fixed number of lines wrote at most that many per spacing, and reads coming faster filled
     * the queue, after which each read wrote its own line with its own commit.
     */
    @Test
    void everythingQueuedDuringACommitIsWrittenByTheNextPassInStatementsOfBoundedSize() {
        AuditWriter slow = new AuditWriter(repository, Duration.ofMillis(200));
        Sinks.One<Long> firstCommit = Sinks.one();
        when(repository.insertAll(anyList())).thenAnswer(call -> {
            commits.add(List.copyOf(call.getArgument(0)));
            return commits.size() == 1 ? firstCommit.asMono() : Mono.just(0L);
        });
        slow.start();
        try {
            slow.offer(line("first"));
            awaitCommits(1);
            int queued = AuditWriter.ROWS_PER_STATEMENT_MAX * 5 + 7;
            for (int i = 0; i < queued; i++) {
                assertThat(slow.offer(line("queued-" + i))).isTrue();
            }

            firstCommit.tryEmitValue(1L);

            await().atMost(Duration.ofSeconds(5)).until(() -> slow.queuedLines() == 0
                    && commits.stream().mapToInt(List::size).sum() == queued + 1);
            assertThat(commits.subList(1, commits.size())).as("six statements")
                    .extracting(List::size).containsExactly(500, 500, 500, 500, 500, 7);
            assertThat(slow.passes()).as("the first line's pass, and one pass for everything queued meanwhile")
                    .isEqualTo(2);
        } finally {
            slow.stop();
        }
    }

    @Test
    void linesQueuedWhileACommitIsWrittenGoIntoTheNextCommitTogether() {
        Sinks.One<Long> firstCommit = Sinks.one();
        when(repository.insertAll(anyList())).thenAnswer(call -> {
            commits.add(List.copyOf(call.getArgument(0)));
            return commits.size() == 1 ? firstCommit.asMono() : Mono.just(0L);
        });
        writer.start();
        writer.offer(line("first"));
        awaitCommits(1);
        for (int i = 0; i < 50; i++) {
            writer.offer(line("queued-" + i));
        }

        firstCommit.tryEmitValue(1L);

        awaitCommits(2);
        assertThat(commits.get(1)).hasSize(50);
    }

    /**
     * Lines arriving one at a time, each after the last commit ended, go into one commit per spacing, not one each: a
     * lone line is written at once, and what follows waits for the spacing to gather.
     */
    @Test
    void linesArrivingOneByOneShareACommitPerSpacing() throws Exception {
        when(repository.insertAll(anyList())).thenAnswer(call -> {
            commits.add(List.copyOf(call.getArgument(0)));
            return Mono.just(0L);
        });
        writer.start();
        writer.offer(line("lone"));
        awaitCommits(1);

        long startedNanos = System.nanoTime();
        for (int i = 0; i < 100; i++) {
            writer.offer(line("trickle-" + i));
            Thread.sleep(1);
        }
        long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedNanos);
        await().atMost(Duration.ofSeconds(5)).until(() -> commits.stream().mapToInt(List::size).sum() == 101);

        assertThat(commits).as("at most one commit per %d ms over %d ms (one each without the spacing)",
                AuditWriter.COMMIT_SPACING_MILLIS, elapsedMillis)
                .hasSizeLessThanOrEqualTo(2 + (int) (elapsedMillis / AuditWriter.COMMIT_SPACING_MILLIS) + 1);
    }

    @Test
    void aFullQueueRefusesTheLineSoThatItsCallerWritesItItself() {
        when(repository.insertAll(anyList())).thenAnswer(call -> {
            commits.add(List.copyOf(call.getArgument(0)));
            return Mono.never();
        });
        writer.start();
        assertThat(writer.offer(line("in-flight"))).isTrue();
        awaitCommits(1);
        for (int i = 0; i < AuditWriter.LINES_QUEUED_MAX; i++) {
            assertThat(writer.offer(line("waiting-" + i))).isTrue();
        }

        assertThat(writer.offer(line("one-too-many"))).isFalse();
        assertThat(writer.queuedLines()).isEqualTo(AuditWriter.LINES_QUEUED_MAX);
    }

    @Test
    void aFailedCommitLosesOnlyItsOwnLinesAndTheNextOnesAreWritten() {
        when(repository.insertAll(anyList())).thenAnswer(call -> {
            commits.add(List.copyOf(call.getArgument(0)));
            return commits.size() == 1 ? Mono.error(new IllegalStateException("disk full")) : Mono.just(1L);
        });
        writer.start();
        writer.offer(line("lost"));
        awaitCommits(1);

        writer.offer(line("written"));

        awaitCommits(2);
        assertThat(commits.get(1)).extracting(counted -> counted.line().action()).containsExactly("written");
    }

    @Test
    void theSameReadRepeatedWithinOneCommitIsOneLineWithItsCountAndFirstTime() {
        Sinks.One<Long> firstCommit = Sinks.one();
        when(repository.insertAll(anyList())).thenAnswer(call -> {
            commits.add(List.copyOf(call.getArgument(0)));
            return commits.size() == 1 ? firstCommit.asMono() : Mono.just(0L);
        });
        writer.start();
        writer.offer(line("first"));
        awaitCommits(1);
        for (int i = 0; i < 30; i++) {
            writer.offer(polled(Instant.EPOCH.plusMillis(i), "{\"jobId\":\"job_a\"}"));
        }
        writer.offer(polled(Instant.EPOCH.plusMillis(30), "{\"jobId\":\"job_b\"}"));
        for (int i = 31; i < 51; i++) {
            writer.offer(polled(Instant.EPOCH.plusMillis(i), "{\"jobId\":\"job_a\"}"));
        }
        writer.offer(new AuditRepository.Line(Instant.EPOCH, "agent", "agt_test", "tool:job_status",
                "{\"jobId\":\"job_a\"}", "job_not_found", "no job"));

        firstCommit.tryEmitValue(1L);

        awaitCommits(2);
        assertThat(commits.get(1)).extracting(AuditRepository.Counted::calls).containsExactly(50, 1, 1);
        assertThat(commits.get(1)).extracting(counted -> counted.line().arguments())
                .containsExactly("{\"jobId\":\"job_a\"}", "{\"jobId\":\"job_b\"}", "{\"jobId\":\"job_a\"}");
        assertThat(commits.get(1).getFirst().line().at()).as("the first call's time").isEqualTo(Instant.EPOCH);
        assertThat(commits.get(1).get(2).line().outcome()).as("another outcome is another line").isEqualTo("job_not_found");
    }

    private static AuditRepository.Line polled(Instant at, String arguments) {
        return new AuditRepository.Line(at, "agent", "agt_test", "tool:job_status", arguments, "ok", null);
    }

    @Test
    void aWriterThatIsNotRunningTakesNoLines() {
        assertThat(writer.offer(line("before-start"))).isFalse();
        writer.start();
        writer.stop();
        assertThat(writer.offer(line("after-stop"))).isFalse();
    }

    private void awaitCommits(int count) {
        await().atMost(Duration.ofSeconds(5)).until(() -> commits.size() >= count);
    }

    private static AuditRepository.Line line(String action) {
        return new AuditRepository.Line(Instant.EPOCH, "agent", "agt_test", action, "{}", "ok", null);
    }
}
