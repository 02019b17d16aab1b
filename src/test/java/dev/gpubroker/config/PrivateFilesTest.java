package dev.gpubroker.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PrivateFilesTest {

    @TempDir
    Path temporary;

    @Test
    void aNewDataDirectoryCanBePassedThroughButNotListedAndItsOwnDirectoriesAreClosed() throws IOException {
        Path data = PrivateFiles.dataDirectory(temporary.resolve("new-data"));
        Path wallets = PrivateFiles.directory(data.resolve("wallets"));

        assertThat(mode(data)).isEqualTo("rwx--x--x");
        assertThat(mode(wallets)).isEqualTo("rwx------");
    }

    @Test
    void whatAnEarlierVersionLeftOpenIsNarrowedAndWhatAnOperatorNarrowedStaysSo() throws IOException {
        Path data = Files.createDirectory(temporary.resolve("old-data"));
        Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path database = Files.createFile(data.resolve("gpubroker.mv.db"));
        Files.setPosixFilePermissions(database, PosixFilePermissions.fromString("rw-r--r--"));
        Path chain = Files.createDirectory(data.resolve("chain"));
        Files.setPosixFilePermissions(chain, PosixFilePermissions.fromString("rwx------"));

        PrivateFiles.dataDirectory(data);
        PrivateFiles.file(database);
        PrivateFiles.directory(chain);

        assertThat(mode(data)).isEqualTo("rwx--x--x");
        assertThat(mode(database)).isEqualTo("rw-------");
        assertThat(mode(chain)).isEqualTo("rwx------");
    }

    private static String mode(Path path) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(path));
    }
}
