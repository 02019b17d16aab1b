package dev.gpubroker.bench;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;

import dev.gpubroker.support.AdminClient;
import dev.gpubroker.support.BrokerJar;
import dev.gpubroker.support.JarClient;
import tools.jackson.databind.json.JsonMapper;

/**
 * The hot path through the real transports: the packaged jar and a bare MCP Java SDK server with one {@code echo} tool
 * ({@link EchoMcpServer}) run side by side on this machine, and the same closed-loop load ({@link McpLoad}: 16 clients,
 * each its own session) is put on echo, {@code job_status} and {@code account} in turn, round after round, once with
 * raw HTTP clients (what the servers cost) and once with the official MCP Java client (what an SDK-built agent sees).
 * Then {@code quote} is asked by one raw client over 8 and over 32 providers that each answer in exactly 50 ms
 * ({@code catalogs/bench-32.yml}). Prints throughput, latency percentiles, the server's CPU time per call and each
 * tool's throughput as a share of echo's measured right before and right after it ({@link #bracketed}), and the medians
 * over the rounds. Prints numbers; not a test. The job that job_status asks about is running (a sleep with a heartbeat interval), and all clients are one
 * agent's sessions. Run after {@code mvn package -DskipTests}:
 *
 * <pre>mvn -q test-compile exec:java -Dexec.mainClass=dev.gpubroker.bench.HotPathBenchmark -Dexec.classpathScope=test</pre>
 *
 * Settings (system properties): {@code bench.rounds} (3), {@code bench.seconds} per measurement (8),
 * {@code bench.warmupSeconds} before each (4), {@code bench.firstWarmupSeconds} for each hot tool and client kind
 * before the first round (15; then each once more for {@code bench.warmupSeconds}), {@code bench.clients} (16), {@code bench.clientKinds} ({@code raw,sdk}; empty: quote only),
 * {@code bench.compilePasses}: the most passes over every target, after those, until the servers' JIT compilers are
 * quiet ({@link #warmUntilCompiled}), {@code bench.jfr}: a directory where the broker writes a flight recording (profiling settings) of the whole run,
 * {@code gpubroker.jar}: another jar to measure (an older build, say), {@code bench.compareJar}: a second build's jar,
 * started beside the first, whose {@code job_status} and {@code account} are measured right after the first's.
 */
public final class HotPathBenchmark {

    private static final int ROUNDS = Integer.getInteger("bench.rounds", 3);
    private static final Duration MEASURED = Duration.ofSeconds(Integer.getInteger("bench.seconds", 8));
    private static final Duration WARMUP = Duration.ofSeconds(Integer.getInteger("bench.warmupSeconds", 4));
    /** Before the first round: both JVMs start cold, and the JIT needs many thousand calls to settle. */
    private static final Duration FIRST_WARMUP = Duration.ofSeconds(Integer.getInteger("bench.firstWarmupSeconds", 15));
    private static final int CLIENTS = Integer.getInteger("bench.clients", 16);
    /** The share of a server's CPU its JIT may still take when the warm-up ends ({@link #warmUntilCompiled}). */
    private static final double JIT_SHARE_SETTLED = 0.03;
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final List<McpLoad.Kind> KINDS = java.util.Arrays.stream(System.getProperty("bench.clientKinds",
            "raw,sdk").split(",")).filter(kind -> !kind.isBlank())
            .map(kind -> McpLoad.Kind.valueOf(kind.strip().toUpperCase(java.util.Locale.ROOT))).toList();
    private static final Path CATALOG = Path.of("src/test/resources/catalogs/bench-32.yml").toAbsolutePath();
    private static final List<String> PROVIDERS = IntStream.rangeClosed(1, 32)
            .mapToObj(i -> "demo-bench-%02d".formatted(i)).toList();

    private HotPathBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Path dataDir = BrokerJar.newDataDir();
        Map<String, String> environment = new HashMap<>();
        String jfr = System.getProperty("bench.jfr");
        if (jfr != null) {
            Files.createDirectories(Path.of(jfr));
            environment.put("JAVA_TOOL_OPTIONS", flightRecording(Path.of(jfr).resolve("broker.jfr")));
        }
        // The bare SDK is recorded too: what the broker adds is the difference between the two recordings.
        Process echo = startEcho(jfr == null ? null : flightRecording(Path.of(jfr).resolve("echo.jfr")));
        String compareJar = System.getProperty("bench.compareJar");
        try (BrokerJar broker = BrokerJar.startHttp(dataDir, environment,
                "--gpubroker.market.demo-catalog=file:" + CATALOG, "--gpubroker.market.local.enabled=false");
                BrokerJar other = compareJar == null ? null : BrokerJar.startHttpOf(Path.of(compareJar).toAbsolutePath(),
                        null, BrokerJar.newDataDir(), Map.of(), "--gpubroker.market.demo-catalog=file:" + CATALOG,
                        "--gpubroker.market.local.enabled=false")) {
            String key = broker.demoAgentKey();
            String jobId = runningJob(broker, key);
            URI brokerBase = URI.create("http://127.0.0.1:" + broker.port());
            URI echoBase = URI.create("http://127.0.0.1:" + echoPort(echo));
            primeReplays(broker, key, jobId, echoBase);
            ProcessHandle brokerProcess = broker.processHandle();
            List<McpLoad.Target> hot = new ArrayList<>(List.of(
                    new McpLoad.Target("echo (bare SDK)", echoBase, echo.toHandle(), null, "echo",
                            "{\"text\":\"hello\"}"),
                    new McpLoad.Target("job_status", brokerBase, brokerProcess, key, "job_status",
                            "{\"jobId\":\"" + jobId + "\"}"),
                    new McpLoad.Target("account", brokerBase, brokerProcess, key, "account", "{}"),
                    new McpLoad.Target("job_status's answer, bare SDK", echoBase, echo.toHandle(), null,
                            "replay_job_status", "{\"jobId\":\"" + jobId + "\"}"),
                    new McpLoad.Target("account's answer, bare SDK", echoBase, echo.toHandle(), null, "replay_account",
                            "{}")));
            List<ProcessHandle> servers = new ArrayList<>(List.of(echo.toHandle(), brokerProcess));
            if (other != null) {
                // The other build's tools right after this build's, each between two measurements of echo: two builds
                // compared under the same conditions, where runs minutes apart differ by a quarter on this machine.
                String otherKey = other.demoAgentKey();
                String otherJob = runningJob(other, otherKey);
                URI otherBase = URI.create("http://127.0.0.1:" + other.port());
                hot.add(2, new McpLoad.Target("job_status, compared", otherBase, other.processHandle(), otherKey,
                        "job_status", "{\"jobId\":\"" + otherJob + "\"}"));
                hot.add(4, new McpLoad.Target("account, compared", otherBase, other.processHandle(), otherKey, "account",
                        "{}"));
                servers.add(other.processHandle());
            }
            List<McpLoad.Target> quotes = List.of(
                    new McpLoad.Target("quote, 8 providers", brokerBase, brokerProcess, key, "quote", quoteArguments(8)),
                    new McpLoad.Target("quote, 32 providers", brokerBase, brokerProcess, key, "quote",
                            quoteArguments(32)));

            System.out.printf("hot path over streamable HTTP: %d clients (%s), %d rounds of %d s after %d s of warm-up "
                    + "(%d s before the first); %d cores; load average before: %s%n", CLIENTS, KINDS, ROUNDS,
                    MEASURED.toSeconds(), WARMUP.toSeconds(), FIRST_WARMUP.toSeconds(),
                    Runtime.getRuntime().availableProcessors(), loadAverage());
            // Twice over every target: the JIT compiles each tool's path for what it saw so far, and the next tool
            // through the shared code (the transport, the tool pipeline) made it compile again, which the first round's
            // first broker tool then paid for (half again its CPU per call, JIT threads included).
            for (Duration warmup : List.of(FIRST_WARMUP, WARMUP)) {
                for (McpLoad.Kind kind : KINDS) {
                    for (McpLoad.Target target : hot) {
                        McpLoad.run(target, kind, CLIENTS, warmup, Duration.ZERO);
                    }
                }
            }
            warmUntilCompiled(hot);
            for (McpLoad.Target target : quotes) {
                McpLoad.run(target, McpLoad.Kind.RAW, 1, WARMUP, Duration.ZERO);
            }
            Map<McpLoad.Kind, List<Map<String, Measured>>> hotRounds = new java.util.EnumMap<>(McpLoad.Kind.class);
            List<Map<String, Measured>> quoteRounds = new ArrayList<>();
            for (int round = 1; round <= ROUNDS; round++) {
                for (McpLoad.Kind kind : KINDS) {
                    Map<String, Measured> results = bracketed(hot, kind, servers);
                    hotRounds.computeIfAbsent(kind, ignored -> new ArrayList<>()).add(results);
                    System.out.printf("%nround %d, %s clients (load average after: %s)%n", round, kind, loadAverage());
                    print(results.values());
                }
                Map<String, Measured> results = new java.util.LinkedHashMap<>();
                for (McpLoad.Target target : quotes) {
                    results.put(target.label(), new Measured(McpLoad.run(target, McpLoad.Kind.RAW, 1, WARMUP, MEASURED),
                            Double.NaN));
                }
                quoteRounds.add(results);
                System.out.printf("%nround %d, quote, one raw client (load average after: %s)%n", round, loadAverage());
                print(results.values());
            }
            for (McpLoad.Kind kind : KINDS) {
                System.out.printf("%nmedian of %d rounds, %s clients (each figure's own median; of echo: calls/s over "
                        + "the mean of echo's calls/s measured right before and right after)%n", ROUNDS, kind);
                printMedians(hotRounds.get(kind));
            }
            System.out.printf("%nmedian of %d rounds, quote, one raw client%n", ROUNDS);
            printMedians(quoteRounds);
            printReadCaches(new AdminClient(brokerBase, broker.dataDir()));
        } finally {
            echo.destroy();
            echo.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /**
     * More passes over every target until no server's JIT compiler threads take more than {@value #JIT_SHARE_SETTLED}
     * of its CPU under any of them, at most {@code bench.compilePasses} (4) passes. The broker keeps compiling for
     * minutes after the first warm-up (its background work, the database's commits among it, reaches the compile
     * thresholds slowly): in one run its first round's job_status spent 50 µs of its 306 µs per call compiling, the
     * later rounds 3. A measurement is of the steady state, which a server reaches once and keeps.
     */
    private static void warmUntilCompiled(List<McpLoad.Target> hot) throws InterruptedException {
        int passesMax = Integer.getInteger("bench.compilePasses", 4);
        for (int pass = 1; pass <= passesMax; pass++) {
            double highest = 0;
            String where = "";
            for (McpLoad.Kind kind : KINDS) {
                for (McpLoad.Target target : hot) {
                    McpLoad.Result result = McpLoad.run(target, kind, CLIENTS, WARMUP, WARMUP);
                    double share = result.jitCpuMicrosPerCall() / result.serverCpuMicrosPerCall();
                    if (Double.isNaN(share)) {
                        return;
                    }
                    if (share > highest) {
                        highest = share;
                        where = target.label() + ", " + kind;
                    }
                }
            }
            System.out.printf("warm-up pass %d: the most the JIT took of a server's CPU was %.0f %% (%s)%n", pass,
                    100 * highest, where);
            if (highest <= JIT_SHARE_SETTLED) {
                return;
            }
        }
    }

    /**
     * Waits until both servers are idle (under 5 % of a core for half a second, at most 30 s): a server still compiling
     * what the last load ran (its JIT threads) takes the cores from the next measurement, which made the first round's
     * echo read three to four times the CPU per call of the later rounds'.
     */
    private static void settle(List<ProcessHandle> servers) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            long before = servers.stream().mapToLong(server -> McpLoad.cpu(server).toNanos()).sum();
            Thread.sleep(500);
            long used = servers.stream().mapToLong(server -> McpLoad.cpu(server).toNanos()).sum() - before;
            if (used < Duration.ofMillis(25).toNanos()) {
                return;
            }
        }
        System.out.println("(the servers did not go idle within 30 s before this measurement)");
    }

    /** How many of the whole run's reads the broker answered from memory, by cache (its own metric). */
    private static void printReadCaches(AdminClient admin) throws Exception {
        Map<String, double[]> counts = new java.util.TreeMap<>();
        java.util.regex.Matcher line = java.util.regex.Pattern.compile(
                "(?m)^gpubroker_read_cache_total\\{cache=\"([a-z_]+)\",result=\"(hit|miss)\"} ([0-9.E+]+)$")
                .matcher(admin.get("/admin/v1/metrics").body());
        while (line.find()) {
            counts.computeIfAbsent(line.group(1), ignored -> new double[2])[line.group(2).equals("hit") ? 0 : 1] =
                    Double.parseDouble(line.group(3));
        }
        System.out.printf("%nreads answered from memory over the whole run (gpubroker_read_cache_total)%n");
        counts.forEach((cache, hitsAndMisses) -> System.out.printf("%-18s %,12.0f hits %,10.0f misses  %5.1f %%%n",
                cache, hitsAndMisses[0], hitsAndMisses[1],
                100 * hitsAndMisses[0] / Math.max(1, hitsAndMisses[0] + hitsAndMisses[1])));
    }

    /**
     * One measurement and its yardstick: echo's calls/s, the mean of the measurements right before and right after it
     * (for echo's own row, the mean of all of the round's); NaN where there is none.
     */
    private record Measured(McpLoad.Result result, double echoCallsPerSecond) {

        double ofEcho() {
            return result.callsPerSecond() / echoCallsPerSecond;
        }
    }

    /**
     * One round: echo, then each other target followed by echo again, so that each target's share of echo is taken
     * against echo measured right around it. This machine's speed drifts by a quarter within a minute (other tenants,
     * page-out); a single echo at the start of a round made the later targets' shares swing by more than the gaps they
     * were meant to show.
     */
    private static Map<String, Measured> bracketed(List<McpLoad.Target> hot, McpLoad.Kind kind, List<ProcessHandle> servers)
            throws InterruptedException {
        McpLoad.Target echo = hot.getFirst();
        settle(servers);
        McpLoad.Result before = McpLoad.run(echo, kind, CLIENTS, WARMUP, MEASURED);
        List<McpLoad.Result> echoes = new ArrayList<>(List.of(before));
        Map<String, Measured> others = new java.util.LinkedHashMap<>();
        for (McpLoad.Target target : hot.subList(1, hot.size())) {
            settle(servers);
            McpLoad.Result measured = McpLoad.run(target, kind, CLIENTS, WARMUP, MEASURED);
            settle(servers);
            McpLoad.Result after = McpLoad.run(echo, kind, CLIENTS, WARMUP, MEASURED);
            others.put(target.label(), new Measured(measured, (before.callsPerSecond() + after.callsPerSecond()) / 2));
            echoes.add(after);
            before = after;
        }
        McpLoad.Result middle = echoes.stream().sorted(Comparator.comparingDouble(McpLoad.Result::callsPerSecond))
                .toList().get(echoes.size() / 2);
        Map<String, Measured> results = new java.util.LinkedHashMap<>();
        results.put(echo.label(), new Measured(middle, middle.callsPerSecond()));
        results.putAll(others);
        return results;
    }

    private static void print(java.util.Collection<Measured> results) {
        System.out.printf("%-22s %7s %10s %8s %9s %9s %9s %9s %12s %8s %10s %6s %8s%n", "tool", "clients",
                "calls/s", "of echo", "p50 ms", "p95 ms", "p99 ms", "max ms", "CPU µs/call", "JIT µs", "client µs", "idle",
                "failed");
        for (Measured measured : results) {
            McpLoad.Result result = measured.result();
            System.out.printf("%-22s %7d %10.0f %8s %9.2f %9.2f %9.2f %9.2f %12.0f %8.0f %10.0f %5.0f%% %8d%n",
                    result.label(), result.clients(), result.callsPerSecond(), Double.isNaN(measured.echoCallsPerSecond()) ? ""
                            : "%.0f %%".formatted(100 * measured.ofEcho()),
                    result.p50Micros() / 1000.0, result.p95Micros() / 1000.0, result.p99Micros() / 1000.0,
                    result.maxMicros() / 1000.0, result.serverCpuMicrosPerCall(), result.jitCpuMicrosPerCall(),
                    result.clientCpuMicrosPerCall(), 100 * result.idleShare(), result.failures());
            if (result.firstFailure() != null) {
                System.out.println("    first failure: " + result.firstFailure());
            }
        }
    }

    private static void printMedians(List<Map<String, Measured>> rounds) {
        System.out.printf("%-22s %10s %8s %9s %9s %9s %12s %8s %10s %6s %8s%n", "tool", "calls/s", "of echo",
                "p50 ms", "p95 ms", "p99 ms", "CPU µs/call", "JIT µs", "client µs", "idle", "failed");
        for (String label : rounds.getFirst().keySet()) {
            List<Measured> all = rounds.stream().map(round -> round.get(label)).toList();
            List<McpLoad.Result> of = all.stream().map(Measured::result).toList();
            boolean comparable = !Double.isNaN(all.getFirst().echoCallsPerSecond());
            System.out.printf("%-22s %10.0f %8s %9.2f %9.2f %9.2f %12.0f %8.0f %10.0f %5.0f%% %8d%n", label,
                    median(of, McpLoad.Result::callsPerSecond),
                    comparable ? "%.0f %%".formatted(100 * median(all, Measured::ofEcho)) : "",
                    median(of, result -> result.p50Micros() / 1000.0), median(of, result -> result.p95Micros() / 1000.0),
                    median(of, result -> result.p99Micros() / 1000.0), median(of, McpLoad.Result::serverCpuMicrosPerCall),
                    median(of, McpLoad.Result::jitCpuMicrosPerCall), median(of, McpLoad.Result::clientCpuMicrosPerCall),
                    100 * median(of, McpLoad.Result::idleShare),
                    of.stream().mapToLong(McpLoad.Result::failures).sum());
        }
    }

    private static <T> double median(List<T> values, ToDoubleFunction<T> figure) {
        double[] sorted = values.stream().mapToDouble(figure).sorted().toArray();
        int middle = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    private static String quoteArguments(int providers) {
        return "{\"gpu\":\"H100\",\"durationMinutes\":60,\"providers\":["
                + PROVIDERS.subList(0, providers).stream().map(name -> "\"" + name + "\"").collect(Collectors.joining(","))
                + "]}";
    }

    /** Quote, reserve, pay and run a job that sleeps for an hour, with a heartbeat: job_status has a live job to meter. */
    @SuppressWarnings("unchecked")
    private static String runningJob(BrokerJar broker, String key) throws InterruptedException {
        McpSyncClient client = JarClient.connect(broker, key);
        try {
            JarClient.awaitFunded(client);
            var quote = JarClient.structured(client, "quote", Map.of("gpu", "H100", "durationMinutes", 60,
                    "providers", List.of(PROVIDERS.getFirst())));
            String quoteId = (String) ((List<Map<String, Object>>) quote.get("quotes")).getFirst().get("quoteId");
            String reservationId = (String) JarClient.structured(client, "reserve", Map.of("quoteId", quoteId,
                    "idempotencyKey", "bench-reserve")).get("reservationId");
            Map<String, Object> paid = JarClient.structured(client, "pay", Map.of("reservationId", reservationId,
                    "idempotencyKey", "bench-pay"));
            if (!"confirmed".equals(paid.get("status"))) {
                throw new IllegalStateException("the benchmark's payment did not confirm: " + paid);
            }
            String jobId = (String) JarClient.structured(client, "run", Map.of("reservationId", reservationId,
                    "command", List.of("sleep", "3600"), "heartbeatSeconds", 600, "idempotencyKey", "bench-run"))
                    .get("jobId");
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!"running".equals(JarClient.structured(client, "job_status", Map.of("jobId", jobId)).get("status"))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the benchmark's job is not running after 30 s");
                }
                Thread.sleep(200);
            }
            return jobId;
        } finally {
            client.closeGracefully();
        }
    }

    /**
     * Gives the echo server's {@code replay_job_status} and {@code replay_account} the broker's real answers to send:
     * the bare SDK sending exactly what the broker sends, the answer's own cost told apart from the broker's.
     */
    private static void primeReplays(BrokerJar broker, String key, String jobId, URI echoBase) {
        McpSyncClient brokerClient = JarClient.connect(broker, key);
        McpSyncClient echoClient = McpClient.sync(HttpClientStreamableHttpTransport.builder(echoBase.toString())
                .endpoint("/mcp").build()).requestTimeout(Duration.ofSeconds(30)).build();
        try {
            echoClient.initialize();
            Map<String, Object> status = JarClient.structured(brokerClient, "job_status", Map.of("jobId", jobId));
            Map<String, Object> account = JarClient.structured(brokerClient, "account", Map.of());
            JarClient.structured(echoClient, "replay_job_status", Map.of("prime", status));
            JarClient.structured(echoClient, "replay_account", Map.of("prime", account));
            System.out.printf("answers: job_status %,d bytes, account %,d bytes of JSON (sent twice: structured and as "
                    + "text); echo's about 100%n", JSON.writeValueAsString(status).length(),
                    JSON.writeValueAsString(account).length());
        } finally {
            echoClient.closeGracefully();
            brokerClient.closeGracefully();
        }
    }

    /** The bare-SDK echo server as its own JVM, on the classpath this benchmark runs with. */
    /** JVM options that record the process's flight to {@code file}, with the stacks deep enough to read. */
    private static String flightRecording(Path file) {
        // At JFR's default of 64 frames a reactive chain is cut long before the filter that began it.
        return "-XX:FlightRecorderOptions:stackdepth=2048 -XX:StartFlightRecording=settings=profile,filename="
                + file.toAbsolutePath();
    }

    /** The bare SDK's echo server; {@code javaToolOptions} (null for none) go to its JVM. */
    private static Process startEcho(String javaToolOptions) throws IOException {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        ProcessBuilder builder = new ProcessBuilder(BrokerJar.java(), "-cp", classpath(), EchoMcpServer.class.getName(),
                Integer.toString(port)).redirectErrorStream(true);
        if (javaToolOptions != null) {
            builder.environment().put("JAVA_TOOL_OPTIONS", javaToolOptions);
        }
        return builder.start();
    }

    private static int echoPort(Process echo) throws IOException {
        BufferedReader output = new BufferedReader(new InputStreamReader(echo.getInputStream(), StandardCharsets.UTF_8));
        for (String line = output.readLine(); line != null; line = output.readLine()) {
            if (line.startsWith("READY ")) {
                Thread.ofPlatform().daemon().start(() -> output.lines().forEach(ignored -> { }));
                return Integer.parseInt(line.substring("READY ".length()).strip());
            }
        }
        throw new IllegalStateException("the echo server exited before it listened (exit " + echo.exitValue() + ")");
    }

    /**
     * The test classpath: under {@code exec:java} it is the class loader's URLs (the JVM's own classpath is Maven's),
     * else {@code java.class.path}.
     */
    private static String classpath() {
        Set<String> entries = new LinkedHashSet<>();
        for (ClassLoader loader = HotPathBenchmark.class.getClassLoader(); loader != null; loader = loader.getParent()) {
            if (loader instanceof URLClassLoader urls) {
                for (URL url : urls.getURLs()) {
                    try {
                        entries.add(Path.of(url.toURI()).toString());
                    } catch (java.net.URISyntaxException | IllegalArgumentException notAFile) {
                        // Not a file on this machine: not for a classpath.
                    }
                }
            }
        }
        entries.addAll(List.of(System.getProperty("java.class.path").split(File.pathSeparator)));
        return entries.stream().filter(entry -> !entry.isBlank()).sorted(Comparator.comparing(entry -> !entry.contains(
                "test-classes"))).collect(Collectors.joining(File.pathSeparator));
    }

    private static String loadAverage() {
        try {
            String[] fields = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return fields[0] + " " + fields[1] + " " + fields[2];
        } catch (IOException | RuntimeException unavailable) {
            return "unknown";
        }
    }
}
