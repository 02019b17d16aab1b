package dev.gpubroker.market.local;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeoutException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.gpubroker.market.ProviderUnavailableException;
import reactor.core.publisher.Mono;

/**
 * Finds this host's NVIDIA GPUs by asking {@code nvidia-smi --query-gpu=index,name,memory.total
 * --format=csv,noheader,nounits}, which prints one line per GPU: {@code 0, NVIDIA H100 80GB HBM3, 81559}. No
 * nvidia-smi means no GPUs to sell. One that is there but cannot be asked now (it cannot be started, its driver does
 * not answer, the query runs past its timeout) is a failure, not an answer: the provider asks again later rather than
 * selling nothing until a restart. Each is logged with its reason.
 */
final class NvidiaSmi {

    static final String DEFAULT_EXECUTABLE = "nvidia-smi";
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);
    static final List<String> QUERY = List.of("--query-gpu=index,name,memory.total", "--format=csv,noheader,nounits");
    private static final int GPUS_MAX = 64;
    private static final Logger log = LoggerFactory.getLogger(NvidiaSmi.class);

    private final String executable;
    private final Duration timeout;

    NvidiaSmi(String executable, Duration timeout) {
        this.executable = executable;
        this.timeout = timeout;
    }

    /**
     * Whether nvidia-smi is there to be asked (an executable file, on the PATH unless named by a path): a look at the
     * file system, no process, so the server can decide at start whether this host could sell GPUs at all.
     */
    boolean isInstalled(String path) {
        if (executable.contains(java.io.File.separator)) {
            java.nio.file.Path file = java.nio.file.Path.of(executable);
            return java.nio.file.Files.isRegularFile(file) && java.nio.file.Files.isExecutable(file);
        }
        return ContainerRuntime.findOnPath(executable, path).isPresent();
    }

    String executable() {
        return executable;
    }

    /**
     * The GPUs nvidia-smi lists (an empty list when it lists none or is not installed); a
     * {@link ProviderUnavailableException} when it is installed but did not answer, whose message an agent may read.
     */
    Mono<List<DetectedGpu>> discover() {
        List<String> argv = new ArrayList<>();
        argv.add(executable);
        argv.addAll(QUERY);
        return ShortCommand.run(argv, timeout)
                .flatMap(result -> {
                    if (result.exitCode() != 0) {
                        log.warn("{} exited with code {} ({}): this host's GPUs are asked for again on the next quote",
                                executable, result.exitCode(), result.firstLine());
                        return unanswered("nvidia-smi exited with code " + result.exitCode());
                    }
                    return Mono.just(parse(result.lines()));
                })
                .onErrorResume(IOException.class, notStarted -> {
                    if (!isInstalled(System.getenv("PATH"))) {
                        log.info("{} is not installed here ({}): this host sells no GPUs", executable,
                                notStarted.getMessage());
                        return Mono.just(List.of());
                    }
                    // Installed but not startable now: a file being replaced by a driver update ("Text file busy"),
                    // a permission being changed.
                    log.warn("{} could not be started ({}): this host's GPUs are asked for again on the next quote",
                            executable, notStarted.getMessage());
                    return unanswered("nvidia-smi could not be started");
                })
                .onErrorResume(TimeoutException.class, timedOut -> {
                    log.warn("{} did not answer within {}: this host's GPUs are asked for again on the next quote",
                            executable, timeout);
                    return unanswered("nvidia-smi did not answer within " + timeout.toMillis() + " ms");
                });
    }

    private static Mono<List<DetectedGpu>> unanswered(String why) {
        return Mono.error(new ProviderUnavailableException("this host's GPUs could not be listed (" + why
                + "); they are asked for again on the next quote"));
    }

    /** The GPUs in nvidia-smi's CSV lines; a line that cannot be read is skipped with a log line that quotes it. */
    static List<DetectedGpu> parse(List<String> lines) {
        List<DetectedGpu> gpus = new ArrayList<>();
        for (String line : lines) {
            if (line.isBlank()) {
                continue;
            }
            if (gpus.size() == GPUS_MAX) {
                log.warn("nvidia-smi lists more than {} GPUs; the rest are not sold", GPUS_MAX);
                break;
            }
            Optional<DetectedGpu> gpu = parseLine(line);
            if (gpu.isPresent()) {
                gpus.add(gpu.get());
            } else {
                log.warn("Skipping an nvidia-smi line that is not 'index, name, memory in MiB': '{}'", line);
            }
        }
        return List.copyOf(gpus);
    }

    /** One line, {@code index, name, memory.total}; the name sits between the first and the last comma. */
    static Optional<DetectedGpu> parseLine(String line) {
        int firstComma = line.indexOf(',');
        int lastComma = line.lastIndexOf(',');
        if (firstComma < 0 || lastComma == firstComma) {
            return Optional.empty();
        }
        String name = line.substring(firstComma + 1, lastComma).strip();
        try {
            int index = Integer.parseInt(line.substring(0, firstComma).strip());
            // A GPU in a bad state reports "[N/A]" or "[Unknown Error]" here: not a GPU to sell.
            int memoryMib = Integer.parseInt(line.substring(lastComma + 1).strip());
            return index >= 0 && memoryMib > 0 && !name.isEmpty()
                    ? Optional.of(new DetectedGpu(index, name, memoryMib))
                    : Optional.empty();
        } catch (NumberFormatException notANumber) {
            return Optional.empty();
        }
    }
}
