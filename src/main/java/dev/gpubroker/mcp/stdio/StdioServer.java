package dev.gpubroker.mcp.stdio;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.CountDownLatch;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.modelcontextprotocol.json.jackson3.JacksonMcpJsonMapper;
import io.modelcontextprotocol.server.transport.StdioServerTransportProvider;
import io.modelcontextprotocol.spec.McpServerTransportProvider;

import dev.gpubroker.identity.AgentService;
import dev.gpubroker.mcp.DecoratedSends;
import dev.gpubroker.mcp.EarlyMcpServer;
import dev.gpubroker.mcp.McpServerFactory;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import tools.jackson.databind.json.JsonMapper;

/**
 * MCP over stdio ({@code --stdio}): JSON-RPC messages on stdin and stdout, and nothing else on stdout (logs go to
 * stderr). It serves from the moment the process starts, before the application: the handshake and the tool list
 * come from the tool contract, and tool calls wait until {@link #started} hands it the application ({@link
 * EarlyMcpServer}). Serves until stdin closes.
 */
public final class StdioServer {

    public static final String AGENT_KEY_VARIABLE = "GPUBROKER_AGENT_KEY";
    private static final Logger log = LoggerFactory.getLogger(StdioServer.class);

    private final CountDownLatch inputEnded = new CountDownLatch(1);
    private final Sinks.One<StdioCallerResolver.Binding> binding = Sinks.one();
    private final Scheduler sender = Schedulers.newSingle("stdio-send", true);
    private final EarlyMcpServer server;

    private StdioServer(InputStream in, OutputStream out) {
        InputStream watched = new FilterInputStream(in) {
            @Override
            public int read() throws IOException {
                int value = super.read();
                if (value < 0) {
                    inputEnded.countDown();
                }
                return value;
            }

            @Override
            public int read(byte[] buffer, int offset, int length) throws IOException {
                int count = super.read(buffer, offset, length);
                if (count < 0) {
                    inputEnded.countDown();
                }
                return count;
            }
        };
        StdioServerTransportProvider transport = new StdioServerTransportProvider(
                new JacksonMcpJsonMapper(JsonMapper.builder().build()), watched, out);
        this.server = EarlyMcpServer.serve(oneSenderAtATime(transport, sender), new StdioCallerResolver(binding.asMono()));
        log.info("GPU Broker serving MCP over stdio (tool calls wait until the server has started)");
    }

    /**
     * The SDK's stdio transport puts each outgoing message into a unicast sink with {@code tryEmitNext}, which refuses
     * (and the SDK drops the message) when two threads send at once: a {@code run} answer and its job's progress
     * notification, say, and the client then waits for an answer that never comes. Every send is therefore made from
     * one thread.
     */
    static McpServerTransportProvider oneSenderAtATime(McpServerTransportProvider transport, Scheduler sender) {
        return DecoratedSends.of(transport, (message, send) -> send.subscribeOn(sender));
    }

    /** Starts serving on these streams at once. */
    public static StdioServer serve(InputStream in, OutputStream out) {
        return new StdioServer(in, out);
    }

    /**
     * Waits until the client has been sent the tool list (its start-up is over), at most {@code wait}: the application
     * starts after that, so that it does not slow the handshake down on a machine with few cores.
     */
    public void awaitToolListOrTimeout(java.time.Duration wait) {
        server.toolsListed().timeout(wait, reactor.core.publisher.Mono.empty()).block();
    }

    /** The application is up: calls are handled from now on, as {@code apiKey}'s agent (null: none). */
    public void started(McpServerFactory factory, AgentService agents, String apiKey) {
        binding.tryEmitValue(new StdioCallerResolver.Binding(agents, apiKey));
        server.started(factory);
    }

    /** The application could not start: every call answers why, and the process keeps serving until stdin closes. */
    public void failed(Throwable reason) {
        binding.tryEmitError(reason);
        server.failed(reason);
    }

    /** Blocks the calling (main) thread until stdin reaches its end. */
    public void awaitInputEnd() throws InterruptedException {
        inputEnded.await();
        log.info("stdin closed; stopping");
    }

    public void close() {
        server.close();
        sender.dispose();
    }
}
