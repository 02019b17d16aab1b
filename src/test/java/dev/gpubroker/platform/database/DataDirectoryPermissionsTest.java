package dev.gpubroker.platform.database;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Value;

import dev.gpubroker.support.BrokerIntegrationTest;

/** Nobody but the broker's own user can read what it keeps: the database, the chain, the keys and tokens. */
class DataDirectoryPermissionsTest extends BrokerIntegrationTest {

    @Value("${gpubroker.data-dir}")
    String dataDir;

    @Test
    void theDatabaseTheChainStateTheKeystoresAndTheTokensAreTheBrokersAlone() throws IOException {
        Path data = Path.of(dataDir);
        newAgent("with-a-keystore");

        assertThat(mode(data)).as("others may at most pass through to a job's own directory, never list")
                .isIn("rwx------", "rwx--x--x");
        assertThat(mode(data.resolve("gpubroker.mv.db"))).isEqualTo("rw-------");
        assertThat(mode(data.resolve("admin.token"))).isEqualTo("rw-------");
        assertThat(mode(data.resolve("chain"))).isEqualTo("rwx------");
        assertThat(mode(data.resolve("wallets"))).isEqualTo("rwx------");
        try (Stream<Path> keystores = Files.list(data.resolve("wallets"))) {
            List<Path> files = keystores.toList();
            assertThat(files).isNotEmpty();
            assertThat(files).allSatisfy(file -> assertThat(mode(file)).as(file.toString()).isEqualTo("rw-------"));
        }
        assertThat(data.resolve("gpubroker.trace.db")).doesNotExist();
    }

    private static String mode(Path path) {
        try {
            return PosixFilePermissions.toString(Files.getPosixFilePermissions(path));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
