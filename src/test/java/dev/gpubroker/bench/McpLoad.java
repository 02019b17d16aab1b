package dev.gpubroker.bench;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import dev.gpubroker.support.RawMcp;
import tools.jackson.databind.json.JsonMapper;

/**
 * A closed-loop load generator for one MCP tool over streamable HTTP, in the manner of wrk: each of {@code clients}
 * threads opens its own MCP session (initialize, notifications/initialized, through the JDK's HTTP client), then sends
 * {@code tools/call} after {@code tools/call} on one kept-alive connection, written and read by hand (HTTP/1.1, chunked
 * or sized bodies). No MCP client library sits in the loop, so what is measured is the server, not a client's own
 * per-call work. Every answer is checked: HTTP 200, a JSON-RPC result, not {@code isError}; anything else counts as a
 * failure and is not timed.
 */
final class McpLoad {

    /** One tool on one server (whose process is {@code server}), with the credential and the arguments it sends. */
    record Target(String label, URI base, ProcessHandle server, String apiKey, String tool, String argumentsJson) {
    }

    /**
     * What one run measured: completed calls, their latencies, failures, and the CPU time the server's process spent
     * per completed call while it was measured. CPU per call hardly moves when other work shares the machine, where
     * throughput does.
     */
    record Result(String label, int clients, double seconds, long calls, long failures, long p50Micros,
            long p95Micros, long p99Micros, long maxMicros, double serverCpuMicrosPerCall, String firstFailure) {

        double callsPerSecond() {
            return calls / seconds;
        }
    }

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private McpLoad() {
    }

    /** {@code clients} sessions call the tool without pause for {@code warmup}, then for {@code measured}, timed. */
    static Result run(Target target, int clients, Duration warmup, Duration measured) throws InterruptedException {
        List<Client> all = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            all.add(new Client(target, i));
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
        long untilEnd = measureEnds - System.nanoTime();
        if (untilEnd > 0) {
            Thread.sleep(untilEnd / 1_000_000, (int) (untilEnd % 1_000_000));
        }
        Duration cpuDuring = cpu(target.server()).minus(cpuBefore);
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
                sorted.length == 0 ? 0 : cpuDuring.toNanos() / 1000.0 / sorted.length, firstFailure);
    }

    private static Duration cpu(ProcessHandle process) {
        return process.info().totalCpuDuration().orElse(Duration.ZERO);
    }

    static long percentile(long[] sortedNanos, double quantile) {
        if (sortedNanos.length == 0) {
            return 0;
        }
        int index = (int) Math.ceil(quantile * sortedNanos.length) - 1;
        return sortedNanos[Math.max(0, Math.min(index, sortedNanos.length - 1))] / 1000;
    }

    /** One session on one connection. */
    private static final class Client {

        private final Target target;
        private final int index;
        private final RawMcp session;
        private final String sessionId;
        private final LongList latencies = new LongList();
        private Socket socket;
        private InputStream in;
        private OutputStream out;
        private long failures;
        private String firstFailure;
        private long nextId = 1;

        Client(Target target, int index) {
            this.target = target;
            this.index = index;
            this.session = new RawMcp(target.base(), target.apiKey(), JSON, Duration.ofSeconds(30)).initialize();
            this.sessionId = session.sessionId();
        }

        void loop(long warmupEnds, long measureEnds) throws IOException {
            connect();
            while (true) {
                long start = System.nanoTime();
                if (start >= measureEnds) {
                    return;
                }
                String failure = call();
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

        /** One call; null when it succeeded, else what was wrong. */
        private String call() throws IOException {
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
                reconnect();
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

        private void reconnect() throws IOException {
            closeConnection();
            connect();
        }

        /** Ends the session (DELETE) and closes the connection. */
        void close() {
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
        }

        private static String abbreviated(String text) {
            return text.length() <= 300 ? text : text.substring(0, 300) + "…";
        }
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
