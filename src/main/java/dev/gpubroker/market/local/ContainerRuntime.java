package dev.gpubroker.market.local;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * A container runtime of this host: its kind, and the executable found on PATH (run by its full path, so that the
 * runtime probed at start is the one that runs the jobs).
 */
record ContainerRuntime(Kind kind, String executable) {

    /**
     * How each kind gives a container its GPUs: docker with {@code --gpus} (NVIDIA Container Toolkit), podman with one
     * CDI device per GPU ({@code --device nvidia.com/gpu=<index>}, from the spec {@code nvidia-ctk cdi generate}
     * writes), since podman's own {@code --gpus} is not supported everywhere. Either way the container sees exactly
     * those GPUs, renumbered from 0.
     */
    enum Kind {

        DOCKER("docker") {
            @Override
            List<String> gpuOptions(List<Integer> gpuIndices) {
                // The quotes are part of the value: docker reads --gpus as CSV, and an unquoted device=0,1 would be
                // the two fields "device=0" and "1".
                return List.of("--gpus", "\"device=" + gpuIndices.stream().map(String::valueOf)
                        .collect(Collectors.joining(",")) + "\"");
            }
        },

        PODMAN("podman") {
            @Override
            List<String> gpuOptions(List<Integer> gpuIndices) {
                List<String> options = new ArrayList<>();
                gpuIndices.forEach(index -> {
                    options.add("--device");
                    options.add("nvidia.com/gpu=" + index);
                });
                return List.copyOf(options);
            }
        };

        private final String command;

        Kind(String command) {
            this.command = command;
        }

        String command() {
            return command;
        }

        abstract List<String> gpuOptions(List<Integer> gpuIndices);
    }

    ContainerRuntime {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(executable, "executable");
    }

    /** The options of {@code run} that give the container exactly these GPUs. */
    List<String> gpuOptions(List<Integer> gpuIndices) {
        return kind.gpuOptions(gpuIndices);
    }

    /** Asks the runtime whether it can run containers now (a docker client without its daemon cannot). */
    List<String> probeCommand() {
        return List.of(executable, "info");
    }

    /** Removes a container whatever its state; a container already gone makes it fail, which changes nothing. */
    List<String> removeCommand(String containerName) {
        return List.of(executable, "rm", "--force", containerName);
    }

    /** The runtimes on this PATH, docker first: the order in which they are preferred. */
    static List<ContainerRuntime> onPath(String path) {
        List<ContainerRuntime> found = new ArrayList<>();
        for (Kind kind : Kind.values()) {
            findOnPath(kind.command(), path)
                    .ifPresent(executable -> found.add(new ContainerRuntime(kind, executable.toString())));
        }
        return List.copyOf(found);
    }

    /** The first executable file of this name in the PATH's directories, as a shell would find it. */
    static Optional<Path> findOnPath(String command, String path) {
        if (path == null) {
            return Optional.empty();
        }
        for (String directory : path.split(File.pathSeparator)) {
            if (directory.isBlank()) {
                continue;
            }
            try {
                Path candidate = Path.of(directory).resolve(command).toAbsolutePath();
                if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                    return Optional.of(candidate);
                }
            } catch (InvalidPathException notAPath) {
                // A PATH entry that is not a path holds no executable.
            }
        }
        return Optional.empty();
    }
}
