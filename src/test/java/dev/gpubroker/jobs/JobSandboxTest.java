package dev.gpubroker.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.test.context.TestPropertySource;

import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;

import dev.gpubroker.identity.NewAgent;
import dev.gpubroker.payments.chain.PaymentChain;
import dev.gpubroker.support.BrokerIntegrationTest;

/**
 * A hostile agent through the real {@code run} tool, on a real broker: its job cannot read the broker's secrets, its
 * database or its environment, nor reach its HTTP port or its chain; variables it may not set are refused before
 * anything changes; and a job that forges its records is billed for the seconds it ran. demo-steady's H100 costs
 * 36.00 an hour: 0.01 USDC per GPU-second.
 */
@TestPropertySource(properties = "gpubroker.market.demo-catalog=classpath:catalogs/jobs.yml")
class JobSandboxTest extends BrokerIntegrationTest {

    @org.springframework.beans.factory.annotation.Autowired
    PaymentChain paymentChain;

    @Value("${gpubroker.data-dir}")
    String dataDir;

    @Test
    void runRefusesALoaderOrAProviderVariableNamingItAndChangesNothing() throws Exception {
        McpSyncClient client = fundedClient("env-refused");
        String reservationId = paidReservation(client, "H100", "demo-steady", 60, "env-refused");

        Map<String, Object> preload = error(run(client, reservationId, "env-refused-run", Map.of("LD_PRELOAD", "/work/evil.so",
                "HF_TOKEN", "hf_x"), List.of("true")));
        Map<String, Object> gpus = error(run(client, reservationId, "env-refused-run", Map.of("CUDA_VISIBLE_DEVICES", "0,1,2,3"),
                List.of("true")));

        assertThat(preload).containsEntry("code", "env_not_allowed").containsEntry("field", "env.LD_PRELOAD");
        assertThat((String) preload.get("message")).contains("LD_PRELOAD", "dynamic loader");
        assertThat((String) preload.get("nextStep")).contains("without LD_PRELOAD");
        assertThat(gpus).containsEntry("code", "env_not_allowed").containsEntry("field", "env.CUDA_VISIBLE_DEVICES");
        assertThat((String) gpus.get("message")).contains("set by the provider");
        assertThat(count("jobs", "reservation_id = :r", Map.of("r", reservationId))).as("no job").isZero();
        assertThat(count("reservations", "reservation_id = :r AND state = 'PAID'", Map.of("r", reservationId)))
                .as("the reservation is still paid, ready to run").isOne();

        Map<String, Object> started = output(run(client, reservationId, "env-refused-run", Map.of("HF_TOKEN", "hf_x"),
                List.of("true")));
        assertThat(started).containsEntry("replayed", false);
    }

    @Test
    void aJobCannotReadTheBrokersSecretsDatabaseOrEnvironmentNorReachItOrItsChain() throws Exception {
        Path data = Path.of(dataDir);
        // The admin token, the wallets' password and keystores (the relayer's among them), the database, the chain.
        List<Path> secrets = List.of(data.resolve("admin.token"), data.resolve("wallets/.password"),
                data.resolve("wallets/relayer.json"), data.resolve("gpubroker.mv.db"), data.resolve("chain/anvil-state.json"));
        assertThat(secrets).as("the broker's secrets are there to be stolen").allMatch(Files::exists);
        int anvilPort = anvilPort(data);
        // Every keystore too, by a pattern (there is one per agent): the shell expands it only where it can see them.
        String reads = java.util.stream.Stream.concat(secrets.stream().map(path -> "'" + path + "'"),
                        java.util.stream.Stream.of("'" + data.resolve("wallets") + "'/*.json"))
                .map(path -> "for f in " + path + "; do cat \"$f\" > /dev/null && echo \"READ $f\" || echo \"DENIED $f\"; done")
                .collect(Collectors.joining("; "));
        String connects = List.of(port, anvilPort).stream()
                .map(target -> "bash -c 'echo > /dev/tcp/127.0.0.1/" + target + "' && echo 'CONNECTED " + target
                        + "' || echo 'NO-CONNECTION " + target + "'")
                .collect(Collectors.joining("; "));
        String script = reads + "; " + connects + "; grep -l -- '--state-interva[l]' /proc/[0-9]*/cmdline && echo FOUND-ANVIL;"
                + " echo ENV; env | cut -d= -f1; echo ALL; cat /proc/[0-9]*/environ | tr '\\0' '\\n' | cut -d= -f1; echo END";
        McpSyncClient client = fundedClient("thief");
        String reservationId = paidReservation(client, "H100", "demo-steady", 60, "thief");

        String jobId = (String) output(run(client, reservationId, "thief-run", Map.of("HF_TOKEN", "hf_x"),
                List.of("sh", "-c", script))).get("jobId");
        Map<String, Object> status = awaitSettled(client, jobId);

        assertThat(status).containsEntry("status", "completed");
        @SuppressWarnings("unchecked")
        List<String> lines = (List<String>) output(call(client, "job_logs", Map.of("jobId", jobId))).get("lines");
        assertThat(lines).filteredOn(line -> line.startsWith("DENIED ")).hasSize(secrets.size() + 1);
        assertThat(lines).contains("NO-CONNECTION " + port, "NO-CONNECTION " + anvilPort)
                .noneMatch(line -> line.startsWith("READ ") || line.startsWith("CONNECTED ") || line.equals("FOUND-ANVIL"));
        Set<String> own = Set.copyOf(lines.subList(lines.indexOf("ENV") + 1, lines.indexOf("ALL")));
        assertThat(own).isEqualTo(Set.of("PATH", "HOME", "TMPDIR", "USER", "LOGNAME", "PWD", "CUDA_VISIBLE_DEVICES",
                "NVIDIA_VISIBLE_DEVICES", "GPUBROKER_JOB_ID", "HF_TOKEN"));
        Set<String> brokers = new java.util.HashSet<>(System.getenv().keySet());
        brokers.removeAll(own);
        assertThat(lines.subList(lines.indexOf("ALL") + 1, lines.indexOf("END")))
                .as("no process the job can see holds a variable of the broker's").doesNotContainAnyElementsOf(brokers);
    }

    @Test
    void aJobThatForgesItsRecordsIsBilledForTheSecondsItRan() throws Exception {
        McpSyncClient client = fundedClient("forger");
        String reservationId = paidReservation(client, "H100", "demo-steady", 60, "forger");
        String forge = "for name in exit-code ended launch.properties; do echo '0 1000000000' > $name; "
                + "touch -d '2001-01-01' $name; done; mkdir exit-code.tmp ended.tmp;";

        String jobId = (String) output(run(client, reservationId, "forger-run", Map.of(),
                List.of("sh", "-c", forge + " sleep 3; " + forge + " exit 0"))).get("jobId");
        Map<String, Object> status = awaitSettled(client, jobId);

        long gpuSeconds = ((Number) status.get("gpuSeconds")).longValue();
        assertThat(gpuSeconds).as("the 3 s it ran, whatever it wrote").isBetween(3L, 7L);
        assertThat(status).containsEntry("cost", dev.gpubroker.money.Usdc.ofMicros(gpuSeconds * 10_000).toDecimalString());
    }

    private McpSyncClient fundedClient(String name) throws Exception {
        NewAgent agent = newAgent(name);
        paymentChain.mintTestUsdc(agent.agent().walletAddress(), dev.gpubroker.money.Usdc.parse("50.00"));
        return client(agent.apiKey());
    }

    private static CallToolResult run(McpSyncClient client, String reservationId, String key, Map<String, String> env,
            List<String> command) {
        return call(client, "run", Map.of("reservationId", reservationId, "idempotencyKey", key, "env", env,
                "command", command));
    }

    /** The embedded chain's RPC port, from its process's arguments. */
    private static int anvilPort(Path data) throws Exception {
        long pid = Long.parseLong(Files.readString(data.resolve("chain/anvil.pid")).strip());
        List<String> arguments = List.of(ProcessHandle.of(pid).orElseThrow().info().arguments().orElseThrow());
        return Integer.parseInt(arguments.get(arguments.indexOf("--port") + 1));
    }
}
