package dev.gpubroker.market.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.gpubroker.market.ProviderUnavailableException;
import reactor.test.StepVerifier;

/** Reading what nvidia-smi prints, and asking it for real (a missing binary, a failing driver, a hang). */
class LocalNvidiaSmiTest {

    /** nvidia-smi --query-gpu=index,name,memory.total --format=csv,noheader,nounits on a mixed host. */
    static final List<String> MIXED_HOST_OUTPUT = List.of(
            "0, NVIDIA H100 80GB HBM3, 81559",
            "1, NVIDIA H100 80GB HBM3, 81559",
            "2, NVIDIA A100-SXM4-80GB, 81920",
            "3, NVIDIA L40S, 46068",
            "4, NVIDIA GeForce RTX 4090, 24564",
            "5, Tesla T4, 15360");

    @TempDir
    Path dir;

    @Test
    void readsEveryGpuOfRealNvidiaSmiOutput() {
        assertThat(NvidiaSmi.parse(MIXED_HOST_OUTPUT)).containsExactly(
                new DetectedGpu(0, "NVIDIA H100 80GB HBM3", 81559),
                new DetectedGpu(1, "NVIDIA H100 80GB HBM3", 81559),
                new DetectedGpu(2, "NVIDIA A100-SXM4-80GB", 81920),
                new DetectedGpu(3, "NVIDIA L40S", 46068),
                new DetectedGpu(4, "NVIDIA GeForce RTX 4090", 24564),
                new DetectedGpu(5, "Tesla T4", 15360));
    }

    @Test
    void skipsLinesThatAreNotAGpuAndKeepsTheOthers() {
        List<DetectedGpu> gpus = NvidiaSmi.parse(List.of(
                "0, NVIDIA H100 80GB HBM3, 81559",
                "1, NVIDIA H100 80GB HBM3, [N/A]",
                "",
                "No devices were found",
                "2, NVIDIA H100 80GB HBM3, 81559"));

        assertThat(gpus).extracting(DetectedGpu::index).containsExactly(0, 2);
    }

    @Test
    void aMissingNvidiaSmiMeansNoGpus() {
        StepVerifier.create(new NvidiaSmi(dir.resolve("nvidia-smi").toString(), Duration.ofSeconds(5)).discover())
                .expectNext(List.of())
                .verifyComplete();
    }

    @Test
    void asksTheRealProcessForItsGpus() throws IOException {
        Path nvidiaSmi = script("nvidia-smi", """
                [ "$1 $2" = "--query-gpu=index,name,memory.total --format=csv,noheader,nounits" ] || exit 2
                echo '0, NVIDIA H100 80GB HBM3, 81559'
                echo '1, NVIDIA H100 80GB HBM3, 81559'
                """);

        StepVerifier.create(new NvidiaSmi(nvidiaSmi.toString(), Duration.ofSeconds(5)).discover())
                .assertNext(gpus -> assertThat(gpus).extracting(DetectedGpu::index).containsExactly(0, 1))
                .verifyComplete();
    }

    @Test
    void aDriverThatDoesNotAnswerIsAFailureNotAnAnswer() throws IOException {
        Path nvidiaSmi = script("nvidia-smi", """
                echo "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."
                exit 9
                """);

        assertFailsSaying(new NvidiaSmi(nvidiaSmi.toString(), Duration.ofSeconds(5)), "nvidia-smi exited with code 9");
    }

    @Test
    void anInstalledNvidiaSmiThatCannotBeStartedIsAFailureNotAnAnswer() throws IOException {
        Path nvidiaSmi = dir.resolve("nvidia-smi");
        Files.writeString(nvidiaSmi, "#!" + dir.resolve("no-such-interpreter") + "\n");
        Files.setPosixFilePermissions(nvidiaSmi, PosixFilePermissions.fromString("rwxr-xr-x"));

        assertFailsSaying(new NvidiaSmi(nvidiaSmi.toString(), Duration.ofSeconds(5)), "nvidia-smi could not be started");
    }

    @Test
    void aHangingNvidiaSmiIsStoppedAtItsTimeoutAndIsAFailure() throws IOException {
        Path nvidiaSmi = script("nvidia-smi", "exec sleep 60\n");

        long startNanos = System.nanoTime();
        assertFailsSaying(new NvidiaSmi(nvidiaSmi.toString(), Duration.ofMillis(500)), "did not answer within");
        assertThat(Duration.ofNanos(System.nanoTime() - startNanos)).isLessThan(Duration.ofSeconds(10));
    }

    /** Asking it is a failure (to be asked again), not an answer of no GPUs, and says why. */
    private static void assertFailsSaying(NvidiaSmi nvidiaSmi, String why) {
        StepVerifier.create(nvidiaSmi.discover())
                .expectErrorSatisfies(failure -> assertThat(failure).isInstanceOf(ProviderUnavailableException.class)
                        .hasMessageContaining(why))
                .verify();
    }

    private Path script(String name, String body) throws IOException {
        Path script = dir.resolve(name);
        Files.writeString(script, "#!/bin/sh\n" + body);
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        return script;
    }
}
