package dev.gpubroker.market.local;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeoutException;

import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Runs a short command on this host (nvidia-smi, a container runtime's {@code info} or {@code rm}) without holding a
 * thread while it runs: started on boundedElastic, awaited through its exit future, killed at its timeout. Its output
 * is read once it has exited, so it must fit the pipe's buffer (64 KiB on Linux); the commands run here print a few
 * lines. A command that cannot be started fails with the {@link IOException}; one past its timeout with a
 * {@link TimeoutException}.
 */
final class ShortCommand {

    private static final int OUTPUT_BYTES_MAX = 64 * 1024;

    /** How the command ended, with its standard output and error together. */
    record Result(int exitCode, List<String> lines) {

        Result {
            lines = List.copyOf(lines);
        }

        String firstLine() {
            return lines.isEmpty() ? "(no output)" : lines.getFirst();
        }
    }

    private ShortCommand() {
    }

    static Mono<Result> run(List<String> argv, Duration timeout) {
        return Mono.fromCallable(() -> new ProcessBuilder(argv).redirectErrorStream(true).start())
                .subscribeOn(Schedulers.boundedElastic())
                .flatMap(process -> Mono.fromFuture(process.onExit())
                        .timeout(timeout)
                        .publishOn(Schedulers.boundedElastic())
                        .map(exited -> new Result(exited.exitValue(), readOutput(exited)))
                        .doOnError(TimeoutException.class, timedOut -> process.destroyForcibly())
                        .doOnCancel(process::destroyForcibly));
    }

    private static List<String> readOutput(Process exited) {
        try (InputStream output = exited.getInputStream()) {
            return new String(output.readNBytes(OUTPUT_BYTES_MAX), StandardCharsets.UTF_8).lines().toList();
        } catch (IOException e) {
            return List.of();
        }
    }
}
