package dev.gpubroker.contracts;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The committed contract artifacts are exactly what the committed Solidity compiles to, so the bytecode the server
 * deploys and the ABI it calls can be traced to reviewed source. Fails when a .sol file changed without
 * `node scripts/compile-contracts.mjs`, or when someone edited the JSON by hand.
 */
class ContractBytecodeIsReproducibleTest {

    private static final Path COMMITTED = Path.of("src/main/resources/contracts");

    @Test
    void compilingTheSourcesAgainGivesTheCommittedArtifactsByteForByte(@TempDir Path work) throws Exception {
        Path fresh = work.resolve("contracts");
        Path log = work.resolve("compile.log");
        Process compiler = new ProcessBuilder("node", "scripts/compile-contracts.mjs", fresh.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        boolean finished = compiler.waitFor(120, TimeUnit.SECONDS);
        if (!finished) {
            compiler.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        String output = Files.readString(log, StandardCharsets.UTF_8);

        assertThat(finished).as("compiler finished within 120 s:\n%s", output).isTrue();
        assertThat(compiler.exitValue()).as("compiler exit status:\n%s", output).isZero();
        assertThat(jsonFiles(fresh)).isEqualTo(jsonFiles(COMMITTED)).containsExactly("GpuEscrow.json", "TestUsdc.json");
        for (String name : jsonFiles(COMMITTED)) {
            assertThat(Files.readString(fresh.resolve(name), StandardCharsets.UTF_8))
                    .as("%s compiled now vs committed (rebuild: node scripts/compile-contracts.mjs)", name)
                    .isEqualTo(Files.readString(COMMITTED.resolve(name), StandardCharsets.UTF_8));
            assertThat(Files.readAllBytes(fresh.resolve(name))).isEqualTo(Files.readAllBytes(COMMITTED.resolve(name)));
        }
    }

    private static List<String> jsonFiles(Path directory) throws IOException {
        try (Stream<Path> files = Files.list(directory)) {
            return files.map(file -> file.getFileName().toString()).filter(name -> name.endsWith(".json")).sorted()
                    .toList();
        }
    }
}
