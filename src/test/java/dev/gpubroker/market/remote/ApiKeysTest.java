package dev.gpubroker.market.remote;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A provider's key comes from its environment variable, else its file in the data directory, and never shows. */
class ApiKeysTest {

    @TempDir
    Path data;

    @Test
    void theEnvironmentVariableComesFirstThenTheKeyFileAndNeitherIsPrinted() throws Exception {
        Files.createDirectories(data.resolve("providers"));
        Files.writeString(data.resolve("providers/runpod.key"), "  rpa_FROMFILE\n");

        ApiKey fromEnvironment = new ApiKeys(Map.of("RUNPOD_API_KEY", "rpa_FROMENV"), data)
                .find("runpod", "RUNPOD_API_KEY").orElseThrow();
        ApiKey fromFile = new ApiKeys(Map.of(), data).find("runpod", "RUNPOD_API_KEY").orElseThrow();

        assertThat(fromEnvironment.value()).isEqualTo("rpa_FROMENV");
        assertThat(fromEnvironment.source()).isEqualTo("environment variable RUNPOD_API_KEY");
        assertThat(fromFile.value()).as("trimmed").isEqualTo("rpa_FROMFILE");
        assertThat(fromFile.source()).endsWith("providers/runpod.key");
        assertThat(fromEnvironment + " " + fromFile).doesNotContain("rpa_");
    }

    @Test
    void noKeyABlankVariableOrAnEmptyFileMeansTheProviderIsNotOffered() throws Exception {
        assertThat(new ApiKeys(Map.of("VAST_API_KEY", "  "), data).find("vastai", "VAST_API_KEY")).isEmpty();

        Files.createDirectories(data.resolve("providers"));
        Files.writeString(data.resolve("providers/vastai.key"), "\n");

        assertThat(new ApiKeys(Map.of(), data).find("vastai", "VAST_API_KEY")).isEmpty();
        assertThat(new ApiKeys(Map.of(), data).fileFor("vastai")).isEqualTo(data.resolve("providers/vastai.key")
                .toAbsolutePath().normalize());
    }
}
