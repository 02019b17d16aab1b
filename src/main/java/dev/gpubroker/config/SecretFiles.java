package dev.gpubroker.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/** Secret files under the data directory: created readable by the owner only (mode 600), before any byte is written. */
public final class SecretFiles {

    private SecretFiles() {
    }

    public static void writeOwnerOnly(Path file, String secret) throws IOException {
        Path directory = file.toAbsolutePath().normalize().getParent();
        if (!Files.isDirectory(directory)) {
            PrivateFiles.directory(directory);
        }
        Path temporary = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(temporary);
        if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            Files.createFile(temporary, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } else {
            Files.createFile(temporary);
        }
        Files.writeString(temporary, secret + System.lineSeparator(), StandardCharsets.UTF_8, StandardOpenOption.WRITE);
        Files.move(temporary, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    public static String read(Path file) throws IOException {
        return Files.readString(file, StandardCharsets.UTF_8).strip();
    }
}
