package dev.gpubroker.config;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything the broker keeps under its data directory belongs to the broker's user alone: directories are created
 * (and, when found wider, narrowed to) {@code rwx------}, files {@code rw-------}. The data directory itself is
 * {@code rwx--x--x}: other users, above all the unprivileged users jobs run as, may pass through it to a job's own work
 * directory by its exact (unguessable) name, but can list nothing and open none of the broker's files.
 */
public final class PrivateFiles {

    private static final Logger log = LoggerFactory.getLogger(PrivateFiles.class);
    public static final Set<PosixFilePermission> DIRECTORY = PosixFilePermissions.fromString("rwx------");
    public static final Set<PosixFilePermission> TRAVERSABLE_DIRECTORY = PosixFilePermissions.fromString("rwx--x--x");
    public static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");
    private static final boolean POSIX = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");

    private PrivateFiles() {
    }

    /** The data directory: created when missing, narrowed to {@code rwx--x--x} when wider. */
    public static Path dataDirectory(Path dir) throws IOException {
        return directory(dir, TRAVERSABLE_DIRECTORY);
    }

    /** A directory of the broker's own: created when missing, narrowed to {@code rwx------} when wider. */
    public static Path directory(Path dir) throws IOException {
        return directory(dir, DIRECTORY);
    }

    /** A file of the broker's: narrowed to {@code rw-------} when it exists and is wider. */
    public static void file(Path file) throws IOException {
        if (POSIX && Files.isRegularFile(file)) {
            narrow(file, FILE);
        }
    }

    private static Path directory(Path dir, Set<PosixFilePermission> wanted) throws IOException {
        Path absolute = dir.toAbsolutePath().normalize();
        if (!POSIX) {
            return Files.createDirectories(absolute);
        }
        if (!Files.isDirectory(absolute)) {
            Files.createDirectories(absolute);
            Files.setPosixFilePermissions(absolute, wanted);
            return absolute;
        }
        narrow(absolute, wanted);
        return absolute;
    }

    /** Takes away what {@code wanted} does not grant; never adds (an operator may have narrowed it further). */
    private static void narrow(Path path, Set<PosixFilePermission> wanted) throws IOException {
        Set<PosixFilePermission> current = Files.getPosixFilePermissions(path);
        Set<PosixFilePermission> narrowed = java.util.EnumSet.noneOf(PosixFilePermission.class);
        narrowed.addAll(current);
        narrowed.retainAll(wanted);
        if (!narrowed.equals(current)) {
            Files.setPosixFilePermissions(path, narrowed);
            log.warn("{} was {}: narrowed to {} (nobody but this server's user may read the broker's data)", path,
                    PosixFilePermissions.toString(current), PosixFilePermissions.toString(narrowed));
        }
    }
}
