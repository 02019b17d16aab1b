package dev.gpubroker.market.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Properties;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * The GPU assignments of running jobs on disk, one small file per job ({@code <dir>/<job id>.properties}), written
 * before the job starts and deleted once it has ended. A job outlives a restart of the broker (the process runner
 * takes it back), so its GPUs must too: otherwise the next launch would be given a GPU still in use.
 */
final class AssignmentRecords {

    private static final Logger log = LoggerFactory.getLogger(AssignmentRecords.class);
    private static final String SUFFIX = ".properties";
    private static final int RECORDS_MAX = 1024;

    private final Path directory;

    AssignmentRecords(Path directory) {
        this.directory = directory;
    }

    Mono<Void> write(GpuAssignment assignment) {
        return Mono.fromCallable(() -> {
            Files.createDirectories(directory);
            Properties record = new Properties();
            record.setProperty("offerId", assignment.offerId());
            record.setProperty("gpus", String.join(",", assignment.gpuIndices().stream().map(String::valueOf).toList()));
            assignment.container().ifPresent(runtime -> {
                record.setProperty("container.kind", runtime.kind().name());
                record.setProperty("container.executable", runtime.executable());
            });
            Path temporary = directory.resolve(assignment.jobId() + SUFFIX + ".tmp");
            try (var out = Files.newBufferedWriter(temporary, StandardCharsets.UTF_8)) {
                record.store(out, "GPUs of a running job, written by GPU Broker's local provider");
            }
            Files.move(temporary, fileOf(assignment.jobId()), StandardCopyOption.ATOMIC_MOVE);
            return assignment;
        }).subscribeOn(Schedulers.boundedElastic())
                .onErrorMap(IOException.class, e -> new UncheckedIOException("could not record the GPUs of job "
                        + assignment.jobId(), e))
                .then();
    }

    Mono<Void> delete(String jobId) {
        return Mono.fromCallable(() -> Files.deleteIfExists(fileOf(jobId)))
                .subscribeOn(Schedulers.boundedElastic())
                .onErrorResume(IOException.class, e -> {
                    log.warn("Could not delete the GPU record of job {}: {}", jobId, e.toString());
                    return Mono.just(false);
                })
                .then();
    }

    /** Every record left by an earlier life of the broker; an unreadable one is skipped with a log line. */
    Mono<List<GpuAssignment>> readAll() {
        return Mono.fromCallable(() -> {
            List<GpuAssignment> assignments = new ArrayList<>();
            if (!Files.isDirectory(directory)) {
                return List.<GpuAssignment>of();
            }
            try (DirectoryStream<Path> files = Files.newDirectoryStream(directory, "*" + SUFFIX)) {
                for (Path file : files) {
                    if (assignments.size() == RECORDS_MAX) {
                        log.warn("More than {} GPU records in {}; the rest are ignored", RECORDS_MAX, directory);
                        break;
                    }
                    read(file).ifPresent(assignments::add);
                }
            }
            return List.copyOf(assignments);
        }).subscribeOn(Schedulers.boundedElastic());
    }

    private Path fileOf(String jobId) {
        return directory.resolve(jobId + SUFFIX);
    }

    private static Optional<GpuAssignment> read(Path file) {
        String name = file.getFileName().toString();
        String jobId = name.substring(0, name.length() - SUFFIX.length());
        try (var in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            Properties record = new Properties();
            record.load(in);
            List<Integer> gpus = Arrays.stream(record.getProperty("gpus").split(",")).map(String::strip)
                    .map(Integer::parseInt).toList();
            String kind = record.getProperty("container.kind");
            Optional<ContainerRuntime> container = kind == null ? Optional.empty()
                    : Optional.of(new ContainerRuntime(ContainerRuntime.Kind.valueOf(kind),
                            record.getProperty("container.executable")));
            return Optional.of(new GpuAssignment(jobId, record.getProperty("offerId"), gpus, container));
        } catch (IOException | RuntimeException e) {
            log.warn("Unreadable GPU record {}: {}", file, e.toString());
            return Optional.empty();
        }
    }
}
