package dev.gpubroker.bench;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.spec.McpSchema;

import dev.gpubroker.support.RawMcp;
import tools.jackson.databind.json.JsonMapper;

/**
 * A closed-loop load generator for one MCP tool over streamable HTTP: each of {@code clients} threads opens its own
 * MCP session and calls the tool again as soon as the last call answered. Two kinds of client:
 * <ul>
 * <li>{@link Kind#RAW}, in the manner of wrk: after initialize (through the JDK's HTTP client), {@code tools/call} after
 * {@code tools/call} on one kept-alive connection, written and read by hand (HTTP/1.1, chunked or sized bodies). No
 * MCP client library sits in the loop, so the figures are the server's, not a client's.
 * <li>{@link Kind#SDK}: the official MCP Java client ({@code McpSyncClient} over its streamable HTTP transport), as
 * an agent built on the SDK calls. Its own work per call (a reactive pipeline, the JDK HTTP client, parsing the
 * event stream) costs more CPU than the echo server spends on a call, on the same cores: it narrows the gap between
 * any two servers, and shows what such an agent would see.
 * </ul>
 * Every answer is checked: HTTP 200, a JSON-RPC result, not {@code isError}; anything else counts as a failure and
 * is not timed.
 */
final class McpLoad {

    /** One tool on one server (whose process is {@code server}), with the credential and the arguments it sends. */
    record Target(String label, URI base, ProcessHandle server, String apiKey, String tool, String argumentsJson) {
    }

    /**
     * What one run measured: completed calls, their latencies, failures, and the CPU time the server's process spent
     * per completed call while it was measured. CPU per call hardly moves when other work shares the machine, where
     * throughput does. Beside it, this process's CPU per call (the clients') and the share of the machine's CPU time
     * that was idle (NaN where /proc/stat cannot be read): with the cores busy, throughput is the cores' time over what
     * a call costs both sides; with idle left, something other than CPU held the calls back. And how much of the
     * server's CPU per call its JIT compiler threads took (NaN off Linux): a server still compiling is not yet in its
     * steady state, and what it spends compiling is not what a call costs.
     */
    record Result(String label, int clients, double seconds, long calls, long failures, long p50Micros,
            long p95Micros, long p99Micros, long maxMicros, double serverCpuMicrosPerCall,
            double clientCpuMicrosPerCall, double idleShare, double jitCpuMicrosPerCall, String firstFailure) {

        double callsPerSecond() {
            return calls / seconds;
        }
    }

    /** How the load's clients talk MCP. */
    enum Kind {
        RAW, SDK
    }

    private static final JsonMapper JSON = JsonMapper.builder().build();
    /** Linux's USER_HZ, the unit of /proc's CPU times: 100 on every architecture Linux runs Java on. */
    private static final double CLOCK_TICKS_PER_SECOND = 100;

    private McpLoad() {
    }

    /** {@code clients} sessions call the tool without pause for {@code warmup}, then for {@code measured}, timed. */
    static Result run(Target target, Kind kind, int clients, Duration warmup, Duration measured)
            throws InterruptedException {
        List<Client> all = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            all.add(new Client(i, kind == Kind.RAW ? new RawCaller(target) : new SdkCaller(target)));
        }
        long warmupEnds = System.nanoTime() + warmup.toNanos();
        long measureEnds = warmupEnds + measured.toNanos();
        CountDownLatch done = new CountDownLatch(clients);
        AtomicReference<Throwable> crashed = new AtomicReference<>();
        for (Client client : all) {
            Thread.ofPlatform().name("load-" + target.tool() + "-" + client.index).start(() -> {
                try {
                    client.loop(warmupEnds, measureEnds);
                } catch (Throwable e) {
                    crashed.compareAndSet(null, e);
                } finally {
                    client.close();
                    done.countDown();
                }
            });
        }
        long sleepNanos = warmupEnds - System.nanoTime();
        if (sleepNanos > 0) {
            Thread.sleep(sleepNanos / 1_000_000, (int) (sleepNanos % 1_000_000));
        }
        Duration cpuBefore = cpu(target.server());
        Duration clientCpuBefore = cpu(ProcessHandle.current());
        long jitBefore = compilerTicks(target.server());
        long[] machineBefore = machineTicks();
        long untilEnd = measureEnds - System.nanoTime();
        if (untilEnd > 0) {
            Thread.sleep(untilEnd / 1_000_000, (int) (untilEnd % 1_000_000));
        }
        Duration cpuDuring = cpu(target.server()).minus(cpuBefore);
        Duration clientCpuDuring = cpu(ProcessHandle.current()).minus(clientCpuBefore);
        long jitAfter = compilerTicks(target.server());
        long[] machineAfter = machineTicks();
        double idleShare = machineBefore == null || machineAfter == null || machineAfter[1] == machineBefore[1]
                ? Double.NaN : (double) (machineAfter[0] - machineBefore[0]) / (machineAfter[1] - machineBefore[1]);
        done.await();
        if (crashed.get() != null) {
            throw new IllegalStateException(target.label() + ": a client failed", crashed.get());
        }
        LongList latencies = new LongList();
        long failures = 0;
        String firstFailure = null;
        for (Client client : all) {
            latencies.addAll(client.latencies);
            failures += client.failures;
            if (firstFailure == null) {
                firstFailure = client.firstFailure;
            }
        }
        long[] sorted = latencies.sorted();
        return new Result(target.label(), clients, measured.toNanos() / 1e9, sorted.length, failures,
                percentile(sorted, 0.50), percentile(sorted, 0.95), percentile(sorted, 0.99),
                sorted.length == 0 ? 0 : sorted[sorted.length - 1] / 1000,
                sorted.length == 0 ? 0 : cpuDuring.toNanos() / 1000.0 / sorted.length,
                sorted.length == 0 ? 0 : clientCpuDuring.toNanos() / 1000.0 / sorted.length, idleShare,
                jitBefore < 0 || jitAfter < 0 || sorted.length == 0 ? Double.NaN
                        : (jitAfter - jitBefore) * 1e6 / CLOCK_TICKS_PER_SECOND / sorted.length,
                firstFailure);
    }

    /** The machine's idle and total CPU ticks so far (all cores, from /proc/stat's first line), or null off Linux. */
    private static long[] machineTicks() {
        try {
            String[] fields = Files.readAllLines(Path.of("/proc/stat")).getFirst().trim()
                    .split("\\s+");
            long total = 0;
            for (int i = 1; i < fields.length; i++) {
                total += Long.parseLong(fields[i]);
            }
            // idle and iowait
            return new long[] {Long.parseLong(fields[4]) + Long.parseLong(fields[5]), total};
        } catch (IOException | RuntimeException unreadable) {
            return null;
        }
    }

    /**
     * CPU ticks so far of the process's JIT compiler threads (HotSpot names them "C1 CompilerThre..." and "C2
     * CompilerThre..."), or -1 where /proc cannot tell. A compiler thread that ended in between takes its ticks along.
     */
    private static long compilerTicks(ProcessHandle process) {
        try (var threads = Files.list(Path.of("/proc", Long.toString(process.pid()), "task"))) {
            long ticks = 0;
            for (Path thread : threads.toList()) {
                try {
                    String stat = Files.readString(thread.resolve("stat"));
                    int nameEnds = stat.lastIndexOf(')');
                    String name = stat.substring(stat.indexOf('(') + 1, nameEnds);
                    if (name.startsWith("C1 Compiler") || name.startsWith("C2 Compiler")) {
                        String[] fields = stat.substring(nameEnds + 2).split(" ");
                        // utime and stime: fields 14 and 15 of stat, 12 and 13 after the name
                        ticks += Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
                    }
                } catch (IOException ended) {
                    // The thread ended while the list was read.
                }
            }
            return ticks;
        } catch (IOException | RuntimeException unreadable) {
            return -1;
        }
    }

    /** The process's CPU time so far (all its threads). */
    static Duration cpu(ProcessHandle process) {
        return process.info().totalCpuDuration().orElse(Duration.ZERO);
    }

    static long percentile(long[] sortedNanos, double quantile) {
        if (sortedNanos.length == 0) {
            return 0;
        }
        int index = (int) Math.ceil(quantile * sortedNanos.length) - 1;
        return sortedNanos[Math.max(0, Math.min(index, sortedNanos.length - 1))] / 1000;
    }

    /** One client in the closed loop: calls, times and checks. */
    private static final class Client {

        private final int index;
        private final Caller caller;
        private final LongList latencies = new LongList();
        private long failures;
        private String firstFailure;

        Client(int index, Caller caller) {
            this.index = index;
            this.caller = caller;
        }

        void loop(long warmupEnds, long measureEnds) throws IOException {
            while (true) {
                long start = System.nanoTime();
                if (start >= measureEnds) {
                    return;
                }
                String failure = caller.call();
                long end = System.nanoTime();
                if (start < warmupEnds || end > measureEnds) {
                    continue;
                }
                if (failure == null) {
                    latencies.add(end - start);
                } else {
                    failures++;
                    if (firstFailure == null) {
                        firstFailure = failure;
                    }
                }
            }
        }

        void close() {
            caller.close();
        }
    }

    /** One MCP session that calls one tool. */
    private interface Caller {

        /** One call; null when it succeeded, else what was wrong. */
        String call() throws IOException;

        /** Ends the session. */
        void close();
    }

    /** The official MCP Java client, its own session. */
    private static final class SdkCaller implements Caller {

        private final McpSyncClient client;
        private final McpSchema.CallToolRequest request;

        SdkCaller(Target target) {
            HttpRequest.Builder requests = HttpRequest.newBuilder();
            if (target.apiKey() != null) {
                requests.header("Authorization", "Bearer " + target.apiKey());
            }
            this.client = McpClient.sync(HttpClientStreamableHttpTransport.builder(target.base().toString())
                            .endpoint("/mcp").requestBuilder(requests).build())
                    .requestTimeout(Duration.ofSeconds(60))
                    .build();
            client.initialize();
            this.request = new McpSchema.CallToolRequest(target.tool(), JSON.readValue(target.argumentsJson(),
                    new tools.jackson.core.type.TypeReference<Map<String, Object>>() { }));
        }

        @Override
        public String call() {
            try {
                McpSchema.CallToolResult result = client.callTool(request);
                return Boolean.TRUE.equals(result.isError()) ? abbreviated(String.valueOf(result.content())) : null;
            } catch (RuntimeException failed) {
                return abbreviated(String.valueOf(failed));
            }
        }

        @Override
        public void close() {
            client.closeGracefully();
        }
    }

    /** HTTP/1.1 by hand on one kept-alive connection, after an initialize through the JDK's HTTP client. */
    private static final class RawCaller implements Caller {

        private final Target target;
        private final RawMcp session;
        private final String sessionId;
        private Socket socket;
        private InputStream in;
        private OutputStream out;
        private long nextId = 1;

        RawCaller(Target target) {
            this.target = target;
            this.session = new RawMcp(target.base(), target.apiKey(), JSON, Duration.ofSeconds(30)).initialize();
            this.sessionId = session.sessionId();
        }

        @Override
        public String call() throws IOException {
            if (socket == null) {
                connect();
            }
            String body = "{\"jsonrpc\":\"2.0\",\"id\":" + nextId++ + ",\"method\":\"tools/call\",\"params\":{\"name\":\""
                    + target.tool() + "\",\"arguments\":" + target.argumentsJson() + "}}";
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            StringBuilder head = new StringBuilder(512)
                    .append("POST /mcp HTTP/1.1\r\n")
                    .append("Host: 127.0.0.1:").append(target.base().getPort()).append("\r\n")
                    .append("Content-Type: application/json\r\n")
                    .append("Accept: application/json, text/event-stream\r\n")
                    .append("Mcp-Session-Id: ").append(sessionId).append("\r\n")
                    .append("Content-Length: ").append(bytes.length).append("\r\n");
            if (target.apiKey() != null) {
                head.append("Authorization: Bearer ").append(target.apiKey()).append("\r\n");
            }
            head.append("\r\n");
            out.write(head.toString().getBytes(StandardCharsets.US_ASCII));
            out.write(bytes);
            out.flush();
            HttpAnswer answer = HttpAnswer.read(in);
            if (!answer.keepAlive) {
                closeConnection();
            }
            if (answer.status != 200) {
                return "HTTP " + answer.status + ": " + abbreviated(answer.body);
            }
            if (!answer.body.contains("\"result\"") || answer.body.contains("\"isError\":true")) {
                return abbreviated(answer.body);
            }
            return null;
        }

        private void connect() throws IOException {
            socket = new Socket();
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(60_000);
            socket.connect(new InetSocketAddress("127.0.0.1", target.base().getPort()), 5_000);
            in = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
            out = socket.getOutputStream();
        }

        /** Ends the session (DELETE) and closes the connection. */
        @Override
        public void close() {
            closeConnection();
            session.close();
        }

        private void closeConnection() {
            try {
                if (socket != null) {
                    socket.close();
                }
            } catch (IOException ignored) {
                // Closing a benchmark connection: nothing to do about it.
            }
            socket = null;
        }
    }

    private static String abbreviated(String text) {
        return text.length() <= 300 ? text : text.substring(0, 300) + "…";
    }

    /** An HTTP/1.1 answer read off a kept-alive connection: sized by Content-Length or chunked. */
    private record HttpAnswer(int status, String body, boolean keepAlive) {

        static HttpAnswer read(InputStream in) throws IOException {
            String statusLine = line(in);
            String[] parts = statusLine.split(" ", 3);
            if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
                throw new IOException("not an HTTP answer: " + statusLine);
            }
            int status = Integer.parseInt(parts[1]);
            long length = -1;
            boolean chunked = false;
            boolean keepAlive = true;
            for (String header = line(in); !header.isEmpty(); header = line(in)) {
                int colon = header.indexOf(':');
                String name = header.substring(0, colon).trim().toLowerCase(Locale.ROOT);
                String value = header.substring(colon + 1).trim();
                switch (name) {
                    case "content-length" -> length = Long.parseLong(value);
                    case "transfer-encoding" -> chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
                    case "connection" -> keepAlive = !value.equalsIgnoreCase("close");
                    default -> { }
                }
            }
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            if (chunked) {
                while (true) {
                    String sizeLine = line(in);
                    int semicolon = sizeLine.indexOf(';');
                    int size = Integer.parseInt((semicolon < 0 ? sizeLine : sizeLine.substring(0, semicolon)).trim(), 16);
                    if (size == 0) {
                        while (!line(in).isEmpty()) {
                            // Trailers: none expected, skipped.
                        }
                        break;
                    }
                    body.write(in.readNBytes(size));
                    line(in);
                }
            } else if (length >= 0) {
                body.write(in.readNBytes((int) length));
            } else if (status != 204 && status != 304) {
                body.write(in.readAllBytes());
                keepAlive = false;
            }
            return new HttpAnswer(status, body.toString(StandardCharsets.UTF_8), keepAlive);
        }

        private static String line(InputStream in) throws IOException {
            StringBuilder line = new StringBuilder(64);
            while (true) {
                int c = in.read();
                if (c < 0) {
                    throw new IOException("connection closed mid-answer");
                }
                if (c == '\n') {
                    int last = line.length() - 1;
                    if (last >= 0 && line.charAt(last) == '\r') {
                        line.setLength(last);
                    }
                    return line.toString();
                }
                line.append((char) c);
            }
        }
    }

    /** A growable array of longs: a benchmark records millions of latencies without boxing them. */
    static final class LongList {

        private long[] values = new long[1024];
        private int size;

        void add(long value) {
            if (size == values.length) {
                values = Arrays.copyOf(values, size * 2);
            }
            values[size++] = value;
        }

        void addAll(LongList other) {
            for (int i = 0; i < other.size; i++) {
                add(other.values[i]);
            }
        }

        long[] sorted() {
            long[] copy = Arrays.copyOf(values, size);
            Arrays.sort(copy);
            return copy;
        }
    }
}
