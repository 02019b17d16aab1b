package dev.gpubroker.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.springframework.util.FileSystemUtils;

/**
 * Temporary directories and files for tests and benchmarks, removed when the JVM exits. A started jar's data directory
 * holds its own anvil (43 MB) and a database that a benchmark grows to a gigabyte; left behind, a few hundred runs
 * filled a development machine's disk, and the next server died in its first migration on H2's "The database has
 * been closed". {@code -Dgpubroker.keepScratch=true} keeps them, to look at after a failure.
 */
public final class Scratch {

    private static final boolean KEEP = Boolean.getBoolean("gpubroker.keepScratch");
    private static final List<Path> CREATED = new CopyOnWriteArrayList<>();

    static {
        if (!KEEP) {
            Runtime.getRuntime().addShutdownHook(new Thread(Scratch::removeAll, "scratch-cleanup"));
        }
    }

    private Scratch() {
    }

    public static Path directory(String prefix) {
        try {
            return remembered(Files.createTempDirectory(prefix));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Path file(String prefix, String suffix) {
        try {
            return remembered(Files.createTempFile(prefix, suffix));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path remembered(Path path) {
        CREATED.add(path);
        return path;
    }

    private static void removeAll() {
        CREATED.forEach(Scratch::removeQuietly);
    }

    /** What a process still running there (or another user's file) refuses is left: nothing to fail a finished run for. */
    private static void removeQuietly(Path root) {
        try {
            FileSystemUtils.deleteRecursively(root);
        } catch (IOException | UncheckedIOException ignored) {
            // Best effort at exit.
        }
    }
}
