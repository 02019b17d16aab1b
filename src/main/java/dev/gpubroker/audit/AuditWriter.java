package dev.gpubroker.audit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

import reactor.core.publisher.Flux;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Writes queued audit lines in the background, all those that queued up since the previous pass in one pass (a group
 * commit), one pass at most every {@link #COMMIT_SPACING_MILLIS} ms: under load one pass carries hundreds to thousands
 * of lines, when idle a line is written within a millisecond or two. A pass coalesces repeated calls into one line
 * each and writes the lines in statements of at most {@value #ROWS_PER_STATEMENT_MAX} rows, one commit each. Its own
 * thread does the writing, never a request's. The spacing is what makes the grouping: without it the writer went back
 * for the next line the moment a commit ended, so under HotPathBenchmark's load (about 2,000 reads a second) it
 * committed a few lines at a time and the database's commits took about 5 % of the broker's CPU.
 *
 * <p>Only for lines whose loss in a crash costs no record of a change: the answer does not wait for its line, so a
 * crash loses the lines still queued (those of the last few milliseconds). {@link AuditLog} queues only the lines of
 * calls that changed nothing. Bounded: at most {@value #LINES_QUEUED_MAX} lines wait; when the queue is full, or the
 * writer is stopped, {@link #offer} refuses and the caller writes its line itself. A stop (the server shutting down,
 * after the web server has finished its last requests) writes everything still queued before it completes.
 */
@Component
class AuditWriter implements SmartLifecycle {

    static final int LINES_QUEUED_MAX = 10_000;
    /**
     * Rows per INSERT, well below PostgreSQL's parameters per statement. A pass takes every queued line however many
     * there are: when it took at most 500, ten passes a second wrote at most 5,000 lines, and an agent polling faster
     * (HotPathBenchmark: 6,000 to 8,000 reads a second) filled the queue, after which every read wrote its own line
     * with its own commit: 44 of job_status's 271 µs of CPU per call (HotPathBenchmark, raw clients).
     */
    static final int ROWS_PER_STATEMENT_MAX = 500;
    /**
     * What a crash can lose of the reads' lines (never a change's): a tenth of a second. Every commit of the embedded
     * database writes to its file (WRITE_DELAY=0), and at 20 ms the writer's 50 commits a second still took about 4 %
     * of the broker's CPU under HotPathBenchmark's load.
     */
    static final long COMMIT_SPACING_MILLIS = 100;

    private static final long FULL_WARNING_SPACING_NANOS = TimeUnit.MINUTES.toNanos(1);
    private static final Logger log = LoggerFactory.getLogger(AuditWriter.class);

    private final AuditRepository entries;
    private final long spacingNanos;
    private final Queue<AuditRepository.Line> queued = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queuedCount = new AtomicInteger();
    private final AtomicInteger passes = new AtomicInteger();
    private final AtomicBoolean writing = new AtomicBoolean();
    private final AtomicReference<Runnable> whenDrained = new AtomicReference<>();
    private final AtomicLong lastFullWarningNanos = new AtomicLong(System.nanoTime() - FULL_WARNING_SPACING_NANOS);
    /** When the last pass began (System.nanoTime), read and written on the writer's thread only. */
    private long lastCommitNanos;
    private volatile Scheduler writer;
    private volatile boolean running;

    @Autowired
    AuditWriter(AuditRepository entries) {
        this(entries, Duration.ofMillis(COMMIT_SPACING_MILLIS));
    }

    /** With another spacing between passes (tests). */
    AuditWriter(AuditRepository entries, Duration spacing) {
        this.entries = entries;
        this.spacingNanos = spacing.toNanos();
        this.lastCommitNanos = System.nanoTime() - spacingNanos;
    }

    /** Queues the line for the next commit; false when it was not queued (full, or stopped): write it yourself. */
    boolean offer(AuditRepository.Line line) {
        if (!running) {
            return false;
        }
        if (queuedCount.incrementAndGet() > LINES_QUEUED_MAX) {
            queuedCount.decrementAndGet();
            warnFull();
            return false;
        }
        queued.add(line);
        startWriting();
        return true;
    }

    /** Once a minute at most: a full queue means the database is not keeping up, and each read now costs a commit. */
    private void warnFull() {
        long now = System.nanoTime();
        long last = lastFullWarningNanos.get();
        if (now - last >= FULL_WARNING_SPACING_NANOS && lastFullWarningNanos.compareAndSet(last, now)) {
            log.warn("The audit queue is full ({} lines waiting for the database): each read's line is written with "
                    + "its own commit until it drains", LINES_QUEUED_MAX);
        }
    }

    /** Lines waiting for a commit (for tests and diagnostics). */
    int queuedLines() {
        return queuedCount.get();
    }

    /** Passes that wrote something (for tests and diagnostics). */
    int passes() {
        return passes.get();
    }

    private void startWriting() {
        if (writing.compareAndSet(false, true)) {
            writer.schedule(this::writeWhenSpaced);
        }
    }

    /** Writes now if the last pass began {@link #COMMIT_SPACING_MILLIS} ago, else once it has. */
    private void writeWhenSpaced() {
        long wait = lastCommitNanos + spacingNanos - System.nanoTime();
        if (wait > 0 && running) {
            writer.schedule(this::writeBatch, wait, TimeUnit.NANOSECONDS);
        } else {
            writeBatch();
        }
    }

    /** Writes everything queued (as much as the queue holds), then goes on while anything is left. */
    private void writeBatch() {
        List<AuditRepository.Line> batch = new ArrayList<>();
        for (AuditRepository.Line line = queued.poll(); line != null; line = batch.size() < LINES_QUEUED_MAX
                ? queued.poll() : null) {
            batch.add(line);
        }
        queuedCount.addAndGet(-batch.size());
        if (batch.isEmpty()) {
            writing.set(false);
            // A line queued between the poll and the flag's reset would otherwise wait for the next one.
            if (!queued.isEmpty()) {
                startWriting();
            } else if (!running) {
                Runnable callback = whenDrained.getAndSet(null);
                if (callback != null) {
                    callback.run();
                }
            }
            return;
        }
        lastCommitNanos = System.nanoTime();
        passes.incrementAndGet();
        Flux.fromIterable(coalesced(batch))
                .buffer(ROWS_PER_STATEMENT_MAX)
                .concatMap(statement -> entries.insertAll(statement)
                        .doOnError(error -> log.error("Could not write {} audit line(s) of {} call(s): {}",
                                statement.size(), statement.stream().mapToInt(AuditRepository.Counted::calls).sum(),
                                error.toString()))
                        .onErrorComplete())
                .doFinally(ignored -> writer.schedule(this::writeWhenSpaced))
                .subscribe();
    }

    /**
     * The batch with each repeated call written once, with its count, at its first place and time: an agent polling
     * job_status from 16 sessions queues dozens of identical lines per commit, and a row each cost more than the read.
     */
    static List<AuditRepository.Counted> coalesced(List<AuditRepository.Line> batch) {
        Map<AuditRepository.Call, AuditRepository.Counted> calls = new LinkedHashMap<>();
        for (AuditRepository.Line line : batch) {
            calls.merge(line.call(), new AuditRepository.Counted(line, 1),
                    (first, again) -> new AuditRepository.Counted(first.line(), first.calls() + 1));
        }
        return List.copyOf(calls.values());
    }

    @Override
    public void start() {
        writer = Schedulers.newSingle("audit-writer", true);
        running = true;
    }

    @Override
    public void stop() {
        stop(() -> { });
    }

    /**
     * Stops taking lines, and calls back once every queued line is written. The writer's thread (a daemon) stays: a
     * line queued by a call that checked just before the stop is still written.
     */
    @Override
    public void stop(Runnable callback) {
        if (writer == null) {
            callback.run();
            return;
        }
        whenDrained.set(callback);
        running = false;
        if (writing.compareAndSet(false, true)) {
            writer.schedule(this::writeBatch);
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    /** Started before the web server takes requests, stopped after it has answered its last ones. */
    @Override
    public int getPhase() {
        return 0;
    }
}
