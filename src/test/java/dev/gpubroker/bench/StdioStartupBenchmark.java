package dev.gpubroker.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import dev.gpubroker.support.BrokerJar;
import dev.gpubroker.support.Scratch;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * How long an MCP client waits for GPU Broker over stdio, started as Claude Desktop starts it: {@code java -jar
 * gpu-broker.jar --stdio} from a working directory of its own, with only GPUBROKER_DATA_DIR set. Each run sends
 * initialize, notifications/initialized and tools/list, then one tools/call (account), and measures from the spawn to
 * the tools/list answer (what a client waits for before it shows the tools) and to the tool call's answer (when the
 * database and chain are up). Runs on a fresh data directory each time, then on one existing data directory. Prints
 * median and max, and the load average, since these figures move with whatever else the machine is doing. Not a test.
 *
 * <pre>mvn -q package -DskipTests
 * mvn -q test-compile exec:java -Dexec.mainClass=dev.gpubroker.bench.StdioStartupBenchmark -Dexec.classpathScope=test</pre>
 *
 * {@code -Dbench.runs=5} sets the runs per case; {@code -Dbench.jar=path} measures another jar (an older build, or an
 * extracted one: {@code java -Djarmode=tools -jar gpu-broker.jar extract}); {@code -Dbench.jvmArgs="..."} adds JVM
 * options (an AOT cache, say); {@code -Dbench.cwd=dir} starts it there rather than in a new empty directory (a build from
 * before issue 10 finds its anvil and keeps its wallets only in its project directory).
 */
public final class StdioStartupBenchmark {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(120);

    public static void main(String[] args) throws Exception {
        int runs = Integer.getInteger("bench.runs", 5);
        Path jar = Path.of(System.getProperty("bench.jar", BrokerJar.jar().toString())).toAbsolutePath();
        String jvmArgs = System.getProperty("bench.jvmArgs", "").strip();
        System.out.printf("stdio start-up of %s%s, %d runs per case, java %s%n", jar,
                jvmArgs.isEmpty() ? "" : " with " + jvmArgs, runs, BrokerJar.java());
        System.out.printf("load average before: %s%n", loadAverage());
        List<Run> fresh = new ArrayList<>();
        for (int i = 0; i < runs; i++) {
            fresh.add(run(jar, jvmArgs, BrokerJar.newDataDir()));
        }
        Path existing = BrokerJar.newDataDir();
        run(jar, jvmArgs, existing);
        List<Run> again = new ArrayList<>();
        for (int i = 0; i < runs; i++) {
            again.add(run(jar, jvmArgs, existing));
        }
        report("fresh data directory", fresh);
        report("existing data directory", again);
        System.out.printf("load average after: %s%n", loadAverage());
    }

    private record Run(long toolListMillis, long firstToolAnswerMillis) {
    }

    private static Run run(Path jar, String jvmArgs, Path dataDir) throws Exception {
        String fixedDirectory = System.getProperty("bench.cwd", "");
        Path workingDirectory = fixedDirectory.isBlank() ? Scratch.directory("gpubroker-bench-cwd-")
                : Path.of(fixedDirectory);
        List<String> command = new ArrayList<>(List.of(BrokerJar.java()));
        if (!jvmArgs.isEmpty()) {
            command.addAll(List.of(jvmArgs.split("\\s+")));
        }
        command.addAll(List.of("-jar", jar.toString(), "--stdio"));
        ProcessBuilder builder = new ProcessBuilder(command).directory(workingDirectory.toFile())
                .redirectError(dataDir.resolve("stderr.txt").toFile());
        BrokerJar.onlyGpuBrokerSettings(builder.environment(), dataDir, java.util.Map.of());
        long spawnNanos = System.nanoTime();
        Process process = builder.start();
        BlockingQueue<JsonNode> answers = new LinkedBlockingQueue<>();
        Thread reader = Thread.ofVirtual().start(() -> {
            try (BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                    answers.add(JSON.readTree(line));
                }
            } catch (IOException ended) {
                // The process ended.
            }
        });
        OutputStream in = process.getOutputStream();
        send(in, """
                {"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}""");
        await(answers, 1, process, dataDir);
        send(in, """
                {"jsonrpc":"2.0","method":"notifications/initialized"}""");
        send(in, """
                {"jsonrpc":"2.0","id":2,"method":"tools/list"}""");
        await(answers, 2, process, dataDir);
        long toolListMillis = (System.nanoTime() - spawnNanos) / 1_000_000;
        send(in, """
                {"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"account","arguments":{}}}""");
        JsonNode account = await(answers, 3, process, dataDir);
        long firstToolAnswerMillis = (System.nanoTime() - spawnNanos) / 1_000_000;
        if (account.path("result").path("isError").asBoolean()) {
            throw new IllegalStateException("account answered an error: " + account);
        }
        in.close();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
        reader.join(Duration.ofSeconds(5));
        System.out.printf("  %s: tools/list %5d ms, first tool answer %6d ms%n", dataDir.getFileName(), toolListMillis,
                firstToolAnswerMillis);
        return new Run(toolListMillis, firstToolAnswerMillis);
    }

    private static void send(OutputStream in, String message) throws IOException {
        in.write((message.strip() + "\n").getBytes(StandardCharsets.UTF_8));
        in.flush();
    }

    /** The answer with this id, skipping notifications. */
    private static JsonNode await(BlockingQueue<JsonNode> answers, int id, Process process, Path dataDir)
            throws Exception {
        long deadline = System.nanoTime() + ANSWER_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode message = answers.poll(100, TimeUnit.MILLISECONDS);
            if (message != null && message.path("id").asInt(-1) == id) {
                return message;
            }
            if (message == null && !process.isAlive()) {
                break;
            }
        }
        throw new IllegalStateException("no answer to request " + id + "; stderr:\n"
                + Files.readString(dataDir.resolve("stderr.txt")));
    }

    private static void report(String label, List<Run> runs) {
        List<Long> toolList = runs.stream().map(Run::toolListMillis).sorted().toList();
        List<Long> firstAnswer = runs.stream().map(Run::firstToolAnswerMillis).sorted().toList();
        System.out.printf("%-24s spawn -> tools/list: median %5d ms, max %5d ms | spawn -> first tool answer: median %6d ms,"
                + " max %6d ms%n", label, toolList.get(toolList.size() / 2), toolList.getLast(),
                firstAnswer.get(firstAnswer.size() / 2), firstAnswer.getLast());
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).strip();
        } catch (IOException e) {
            return "unknown";
        }
    }
}
