package dev.gpubroker.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import dev.gpubroker.support.Scratch;
import org.junit.jupiter.api.Test;

/**
 * One GPU Broker per data directory: a second process is refused in one sentence that names the first, and the lock
 * goes with its holder however that ends (here: SIGKILL).
 */
class DataDirectoryLockTest {

    @Test
    void aSecondProcessIsRefusedNamingTheHolderAndGetsTheDirectoryOnceTheHolderIsKilled() throws Exception {
        Path dataDir = Scratch.directory("gpubroker-lock-");
        Process holder = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"), "-cp",
                System.getProperty("java.class.path"), Holder.class.getName(), dataDir.toString())
                .redirectErrorStream(true).start();
        try {
            assertThat(new String(holder.getInputStream().readNBytes("held\n".length()))).isEqualTo("held\n");

            assertThatThrownBy(() -> DataDirectoryLock.acquire(dataDir, "stdio"))
                    .isInstanceOf(StartupRefusal.class)
                    .hasMessageContaining("the data directory " + dataDir.toRealPath() + " is in use by the GPU Broker "
                            + "server with pid " + holder.pid())
                    .hasMessageContaining("serving HTTP at http://127.0.0.1:8080 (MCP at http://127.0.0.1:8080/mcp)")
                    .hasMessageContaining("GPUBROKER_DATA_DIR")
                    .satisfies(refusal -> assertThat(refusal.getMessage()).doesNotContain("\n"));
        } finally {
            holder.destroyForcibly();
            assertThat(holder.waitFor(10, TimeUnit.SECONDS)).isTrue();
        }

        try (DataDirectoryLock lock = DataDirectoryLock.acquire(dataDir, "stdio")) {
            assertThat(Files.readAllLines(dataDir.resolve(DataDirectoryLock.FILE)))
                    .contains("pid=" + ProcessHandle.current().pid(), "transport=stdio");
            assertThat(DataDirectoryLock.acquire(dataDir, "stdio")).as("this process holds it already").isSameAs(lock);
        }
        assertThat(DataDirectoryLock.heldFor(dataDir)).isNull();
    }

    @Test
    void aDiskWithoutRoomToStartIsRefusedInOneSentenceThatSaysSo() throws Exception {
        Path dataDir = Scratch.directory("gpubroker-lock-");
        long free = Files.getFileStore(dataDir).getUsableSpace();

        assertThatThrownBy(() -> DataDirectoryLock.requireFreeSpace(dataDir, free + (1L << 40)))
                .isInstanceOf(StartupRefusal.class)
                .hasMessageStartingWith("the data directory " + dataDir + " has ")
                .hasMessageContaining("MiB free; GPU Broker needs at least ")
                .hasMessageContaining("GPUBROKER_DATA_DIR")
                .satisfies(refusal -> assertThat(refusal.getMessage()).doesNotContain("\n"));
        DataDirectoryLock.requireFreeSpace(dataDir, DataDirectoryLock.MINIMUM_FREE_BYTES);
    }

    /** Holds a data directory as an HTTP server would, until killed. */
    public static final class Holder {
        public static void main(String[] args) throws Exception {
            DataDirectoryLock lock = DataDirectoryLock.acquire(Path.of(args[0]), "http");
            lock.describe("http://127.0.0.1:8080");
            System.out.println("held");
            System.out.flush();
            Thread.sleep(Duration.ofMinutes(5));
            lock.close();
        }
    }
}
