package dev.gpubroker.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static dev.gpubroker.support.JarClient.awaitFunded;
import static dev.gpubroker.support.JarClient.awaitSettled;
import static dev.gpubroker.support.JarClient.structured;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;

import dev.gpubroker.support.Scratch;
import org.junit.jupiter.api.Test;

import io.modelcontextprotocol.client.McpSyncClient;

import dev.gpubroker.money.Usdc;
import dev.gpubroker.support.BrokerJar;
import dev.gpubroker.support.JarClient;

/**
 * The real jar on a host whose nvidia-smi lists two H100s. No GPU machine was lent to these tests, so nvidia-smi is a
 * script that prints what the real one prints for such a host (the same query, the same CSV); everything else is
 * real: the jar finds it on its PATH, sells the GPUs through MCP, and runs the job as a process on the GPUs it assigned.
 */
class LocalProviderIT {

    @Test
    @SuppressWarnings("unchecked")
    void aHostWithTwoH100sSellsThemAndTheJobRunsOnTheGpusItWasGiven() throws Exception {
        Path dataDir = BrokerJar.newDataDir();
        // Not <data>/bin: that is the broker's own (its anvil), owner-only.
        Path bin = Scratch.directory("gpubroker-fake-gpu-host-");
        Path nvidiaSmi = bin.resolve("nvidia-smi");
        Files.writeString(nvidiaSmi, """
                #!/bin/sh
                [ "$1" = "--query-gpu=index,name,memory.total" ] || exit 2
                echo '0, NVIDIA H100 80GB HBM3, 81559'
                echo '1, NVIDIA H100 80GB HBM3, 81559'
                """);
        Files.setPosixFilePermissions(nvidiaSmi, PosixFilePermissions.fromString("rwxr-xr-x"));
        Map<String, String> environment = Map.of("PATH", bin + File.pathSeparator + System.getenv("PATH"));

        try (BrokerJar server = BrokerJar.startHttp(dataDir, environment, "--gpubroker.market.demo-enabled=false",
                "--gpubroker.market.local.price-per-gpu-hour=3.60")) {
            McpSyncClient client = JarClient.connect(server, server.demoAgentKey());
            awaitFunded(client);

            Map<String, Object> board = structured(client, "quote", Map.of("gpu", "H100", "gpuCount", 2,
                    "durationMinutes", 10));
            assertThat((List<?>) board.get("quotes")).as("the host's GPUs quoted: %s", board).isNotEmpty();
            Map<String, Object> quote = ((List<Map<String, Object>>) board.get("quotes")).getFirst();
            assertThat(quote).containsEntry("provider", "local").containsEntry("pricePerGpuHour", "3.60")
                    .containsEntry("total", "1.20").containsEntry("vramGb", 80);
            String reservationId = (String) structured(client, "reserve", Map.of("quoteId", quote.get("quoteId"),
                    "idempotencyKey", "local-reserve-1")).get("reservationId");
            assertThat(structured(client, "pay", Map.of("reservationId", reservationId, "idempotencyKey", "local-pay-1")))
                    .containsEntry("status", "confirmed");
            // Both GPUs are held: nobody else can reserve them now.
            String second = (String) ((List<Map<String, Object>>) structured(client, "quote", Map.of("gpu", "H100",
                    "durationMinutes", 10)).get("quotes")).stream().findFirst().map(q -> q.get("quoteId")).orElse(null);
            assertThat(second).as("no H100 left to quote").isNull();

            String jobId = (String) structured(client, "run", Map.of("reservationId", reservationId,
                    "idempotencyKey", "local-run-1", "command", List.of("sh", "-c",
                            "echo cuda=$CUDA_VISIBLE_DEVICES nvidia=$NVIDIA_VISIBLE_DEVICES; sleep 1"))).get("jobId");
            Map<String, Object> status = awaitSettled(client, jobId);

            assertThat(status).containsEntry("status", "completed").containsEntry("provider", "local");
            assertThat(structured(client, "job_logs", Map.of("jobId", jobId)).get("lines").toString())
                    .contains("cuda=0,1 nvidia=0,1");
            long gpuSeconds = ((Number) status.get("gpuSeconds")).longValue();
            assertThat(gpuSeconds).as("two GPUs for one to three seconds").isBetween(2L, 6L);
            assertThat(status).containsEntry("cost", Usdc.ofMicros(gpuSeconds * 1_000).toDecimalString());
        }
        assertThat(Files.readString(dataDir.resolve("server.log"))).contains("Provider local sells this host's");
    }
}
