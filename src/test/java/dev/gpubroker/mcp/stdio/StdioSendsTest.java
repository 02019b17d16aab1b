package dev.gpubroker.mcp.stdio;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import io.modelcontextprotocol.json.jackson3.JacksonMcpJsonMapper;
import io.modelcontextprotocol.server.transport.StdioServerTransportProvider;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpServerSession;
import io.modelcontextprotocol.spec.McpServerTransport;

import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import tools.jackson.databind.json.JsonMapper;

class StdioSendsTest {

    @Test
    void messagesSentFromManyThreadsAtOnceAllReachStdout() throws Exception {
        int threads = 8;
        int perThread = 250;
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        OutputStream synchronizedStdout = new OutputStream() {
            @Override
            public synchronized void write(int b) {
                stdout.write(b);
            }

            @Override
            public synchronized void write(byte[] bytes, int offset, int length) {
                stdout.write(bytes, offset, length);
            }
        };
        PipedOutputStream stdinWriter = new PipedOutputStream();
        Scheduler sender = Schedulers.newSingle("test-stdio-send", true);
        AtomicReference<McpServerTransport> session = new AtomicReference<>();
        var transport = StdioServer.oneSenderAtATime(new StdioServerTransportProvider(
                new JacksonMcpJsonMapper(JsonMapper.builder().build()), new PipedInputStream(stdinWriter), synchronizedStdout), sender);
        try {
            transport.setSessionFactory(sessionTransport -> {
                session.set(sessionTransport);
                return new McpServerSession("stdio", Duration.ofSeconds(5), sessionTransport, null, Map.of(), Map.of());
            });

            CountDownLatch start = new CountDownLatch(1);
            List<CompletableFuture<Void>> senders = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                senders.add(CompletableFuture.runAsync(() -> {
                    try {
                        start.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    for (int i = 0; i < perThread; i++) {
                        // Like a run answer and its job's progress notifications, sent from different threads.
                        session.get().sendMessage(new McpSchema.JSONRPCNotification(McpSchema.JSONRPC_VERSION,
                                McpSchema.METHOD_NOTIFICATION_PROGRESS, Map.of("thread", thread, "i", i))).block(Duration.ofSeconds(5));
                    }
                }, java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()));
            }
            start.countDown();
            CompletableFuture.allOf(senders.toArray(CompletableFuture[]::new)).get();

            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (lines(stdout) < threads * perThread && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(lines(stdout)).as("every message sent is written, none dropped").isEqualTo(threads * perThread);
        } finally {
            stdinWriter.close();
            sender.dispose();
        }
    }

    private static long lines(ByteArrayOutputStream stdout) {
        synchronized (stdout) {
            return stdout.toString(StandardCharsets.UTF_8).lines().count();
        }
    }
}
