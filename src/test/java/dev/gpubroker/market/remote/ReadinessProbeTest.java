package dev.gpubroker.market.remote;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The probe really runs in a shell with an nvidia-smi on its PATH, then hands over to the agent's argv as it was. */
class ReadinessProbeTest {

    @TempDir
    Path dir;

    @Test
    void twoPromisedH100sPassAndTheAgentsArgumentsReachItsProgramUntouched() throws Exception {
        List<String> output = runWithNvidiaSmi("NVIDIA H100 80GB HBM3, 81559\nNVIDIA H100 80GB HBM3, 81559",
                List.of("printf", "%s|", "$HOME", "a b", ";rm -rf /"));

        assertThat(output.getFirst()).startsWith(ReadinessProbe.PREFIX);
        assertThat(output.get(1)).isEqualTo("$HOME|a b|;rm -rf /|");
        ReadinessProbe.Result result = ReadinessProbe.read(output, "H100", 2).orElseThrow();
        assertThat(result.passed()).isTrue();
        assertThat(result.seen()).isEqualTo("H100, H100");
    }

    @Test
    void anotherModelOrTooFewGpusFailsAndSaysWhatWasThere() throws Exception {
        List<String> output = runWithNvidiaSmi("NVIDIA A100-SXM4-40GB, 40960", List.of("true"));

        ReadinessProbe.Result oneA100 = ReadinessProbe.read(output, "A100-80GB", 1).orElseThrow();
        assertThat(oneA100.passed()).isFalse();
        assertThat(oneA100.reason()).contains("found 0 x A100-80GB where 1 were promised", "A100-40GB");
        assertThat(ReadinessProbe.read(output, "A100-40GB", 2).orElseThrow().passed()).isFalse();
    }

    @Test
    void noDriverFailsAndNoProbeLineYetIsNoAnswer() throws Exception {
        List<String> output = runWithNvidiaSmi(null, List.of("true"));

        assertThat(ReadinessProbe.read(output, "H100", 1).orElseThrow().passed()).isFalse();
        assertThat(ReadinessProbe.read(List.of("pulling image"), "H100", 1)).isEmpty();
    }

    @Test
    void onlyTheFirstProbeLineCountsSoAJobCannotVouchForItself() {
        List<String> lines = List.of(ReadinessProbe.PREFIX + "NVIDIA L40S, 46068;",
                ReadinessProbe.PREFIX + "NVIDIA H100 80GB HBM3, 81559;");

        assertThat(ReadinessProbe.read(lines, "H100", 1).orElseThrow().passed()).isFalse();
    }

    private List<String> runWithNvidiaSmi(String listing, List<String> command) throws Exception {
        Path bin = Files.createDirectories(dir.resolve("bin"));
        if (listing != null) {
            Path smi = bin.resolve("nvidia-smi");
            Files.writeString(smi, "#!/bin/sh\nprintf '%s\\n' '" + listing.replace("\n", "' '") + "'\n");
            smi.toFile().setExecutable(true);
        }
        ProcessBuilder builder = new ProcessBuilder(ReadinessProbe.wrap(command)).redirectErrorStream(true);
        builder.environment().put("PATH", bin + ":/usr/bin:/bin");
        Process process = builder.start();
        List<String> lines = new ArrayList<>(List.of(new String(process.getInputStream().readAllBytes()).split("\n")));
        process.waitFor();
        return lines;
    }
}
