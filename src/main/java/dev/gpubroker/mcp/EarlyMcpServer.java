package dev.gpubroker.mcp;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeoutException;
import java.util.function.BiFunction;

import io.modelcontextprotocol.json.jackson3.JacksonMcpJsonMapper;
import io.modelcontextprotocol.json.schema.JsonSchemaValidator;
import io.modelcontextprotocol.json.schema.jackson3.DefaultJsonSchemaValidator;
import io.modelcontextprotocol.server.McpAsyncServer;
import io.modelcontextprotocol.server.McpAsyncServerExchange;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpServerFeatures.AsyncResourceTemplateSpecification;
import io.modelcontextprotocol.server.McpServerFeatures.AsyncToolSpecification;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpServerTransportProvider;

import dev.gpubroker.config.StartupRefusal;
import dev.gpubroker.mcp.JobResources;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import tools.jackson.databind.json.JsonMapper;

/**
 * An MCP server that answers the handshake, {@code tools/list} and {@code resources/templates/list} the moment its
 * process starts, from the tool contract alone ({@code tool-schemas/}), while the application behind it (database,
 * chain, providers) is still starting: MCP clients such as Claude Desktop start a stdio server and list its tools at
 * once, and a Spring application with its embedded chain takes seconds. Tool calls and resource reads wait for the
 * application, at most {@link #APPLICATION_WAIT}, and are then handled exactly as {@link McpServerFactory#create} handles
 * them; if the application could not start they answer {@code server_unavailable} with the reason.
 */
public final class EarlyMcpServer {

    /** How long a call that arrives during start-up waits for the application before it answers server_starting. */
    public static final Duration APPLICATION_WAIT = Duration.ofSeconds(90);

    private final McpAsyncServer server;
    private final Sinks.One<McpServerFactory> application = Sinks.one();
    private final Sinks.Empty<Void> toolsListed = Sinks.empty();
    private final JsonMapper json;

    private EarlyMcpServer(McpServerTransportProvider transport, CallerResolver callers) {
        this.json = JsonMapper.builder().build();
        List<ToolContract> contracts;
        try {
            contracts = new ToolContractCatalog(json).contracts();
        } catch (IOException e) {
            throw new UncheckedIOException("could not read the tool contract (tool-schemas/)", e);
        }
        Mono<McpServerFactory> ready = application.asMono();
        McpServerTransportProvider gated = new ResourceUpdateGate(callers, readableBy(ready))
                .around(watchingForTheToolList(transport));
        List<AsyncToolSpecification> tools = new ArrayList<>();
        for (ToolContract contract : contracts) {
            tools.add(AsyncToolSpecification.builder()
                    .tool(ToolRegistry.toTool(contract))
                    // Only the wait is answered here when it fails; the call itself fails the way ToolRegistry says.
                    .callHandler((exchange, request) -> whenStarted(ready)
                            .map(factory -> factory.tools().call(contract.name(), callers, gated, exchange, request))
                            .onErrorResume(failure -> Mono.just(Mono.just(
                                    ToolRegistry.failureResult(notServing(failure), json))))
                            .flatMap(java.util.function.Function.identity()))
                    .build());
        }
        this.server = McpServer.async(gated)
                .serverInfo("gpu-broker", version())
                .instructions(McpServerFactory.INSTRUCTIONS)
                .capabilities(McpServerFactory.capabilities())
                .jsonMapper(new JacksonMcpJsonMapper(json))
                .jsonSchemaValidator(new ValidatorOnFirstUse(json))
                // Arguments are checked by ToolArgumentValidator, which answers with the field at fault.
                .validateToolInputs(false)
                .requestTimeout(Duration.ofSeconds(60))
                .tools(tools)
                .resourceTemplates(List.of(
                        resource(JobResources.STATUS_TEMPLATE, ready, callers, false),
                        resource(JobResources.LOGS_TEMPLATE, ready, callers, true)))
                .build();
    }

    /** Serves MCP on this transport from now on; tool calls wait for {@link #started}. */
    public static EarlyMcpServer serve(McpServerTransportProvider transport, CallerResolver callers) {
        return new EarlyMcpServer(transport, callers);
    }

    /**
     * Completes once a client has been sent the tool list: the moment an MCP client's start-up is over, and so the
     * moment to start the slow parts without slowing the handshake down (they share the CPUs).
     */
    public Mono<Void> toolsListed() {
        return toolsListed.asMono();
    }

    /** The application is up: waiting and later calls are handled by it, and job changes are announced. */
    public void started(McpServerFactory factory) {
        if (application.tryEmitValue(factory).isSuccess()) {
            factory.announceJobChanges(server);
        }
    }

    /** The application could not start: every call answers server_unavailable with this reason. */
    public void failed(Throwable reason) {
        application.tryEmitError(reason);
    }

    public void close() {
        server.close();
    }

    /** The transport, telling {@link #toolsListed} when a tools/list answer has gone out. Nothing else changes. */
    private McpServerTransportProvider watchingForTheToolList(McpServerTransportProvider transport) {
        return DecoratedSends.of(transport, (message, send) -> send.doOnSuccess(sent -> {
            if (message instanceof McpSchema.JSONRPCResponse response
                    && response.result() instanceof McpSchema.ListToolsResult) {
                toolsListed.tryEmitEmpty();
            }
        }));
    }

    private static Mono<McpServerFactory> whenStarted(Mono<McpServerFactory> ready) {
        return ready.timeout(APPLICATION_WAIT);
    }

    private AsyncResourceTemplateSpecification resource(McpSchema.ResourceTemplate template, Mono<McpServerFactory> ready,
            CallerResolver callers, boolean logs) {
        return new AsyncResourceTemplateSpecification(template, (McpAsyncServerExchange exchange,
                McpSchema.ReadResourceRequest request) -> whenStarted(ready).flatMap(factory -> factory.jobResources()
                        .read(callers, exchange.transportContext(), request.uri(), logs)));
    }

    private static BiFunction<String, String, Mono<Boolean>> readableBy(Mono<McpServerFactory> ready) {
        return (agentId, uri) -> ready.flatMap(factory -> factory.jobResources().isReadableBy(agentId, uri))
                .onErrorReturn(false);
    }

    /** What a call answers while the application is not there to handle it. */
    static ToolError notServing(Throwable failure) {
        if (failure instanceof TimeoutException) {
            return new ToolError("server_starting", "GPU Broker is still starting (database, chain, providers) after "
                    + APPLICATION_WAIT.toSeconds() + " s", null, "retry in a few seconds; if it keeps failing, read the "
                    + "server's log (stderr)");
        }
        StartupRefusal refusal = StartupRefusal.findIn(failure);
        return new ToolError("server_unavailable", "GPU Broker could not start: " + (refusal != null
                ? refusal.getMessage() : "an unexpected failure (its log, on stderr, has the details)"), null,
                "tell the operator: fix what the message names and restart this MCP server; nothing was charged");
    }

    /**
     * Loading the JSON Schema engine is a third of this server's start, and nothing needs it before the first tool
     * answer (the SDK checks results against their outputSchema). The SDK also checks at build time that every tool's
     * schemas are valid JSON Schema; that check is skipped here only, because the same schemas are checked whenever
     * {@link McpServerFactory} builds a server, which every Spring test and every HTTP start does.
     */
    private static final class ValidatorOnFirstUse implements JsonSchemaValidator {

        private final JsonMapper json;
        private volatile JsonSchemaValidator validator;

        ValidatorOnFirstUse(JsonMapper json) {
            this.json = json;
        }

        @Override
        public ValidationResponse validate(java.util.Map<String, Object> schema, Object structuredContent) {
            JsonSchemaValidator loaded = validator;
            if (loaded == null) {
                synchronized (this) {
                    if (validator == null) {
                        validator = new DefaultJsonSchemaValidator(json);
                    }
                    loaded = validator;
                }
            }
            return loaded.validate(schema, ToolRegistry.readableContent(structuredContent, json));
        }

        @Override
        public void assertConforms(String name, java.util.Map<String, Object> schema) {
            // Checked where McpServerFactory builds a server: see the class comment.
        }
    }

    private static String version() {
        try (InputStream in = EarlyMcpServer.class.getClassLoader().getResourceAsStream("META-INF/build-info.properties")) {
            if (in == null) {
                return "dev";
            }
            Properties build = new Properties();
            build.load(in);
            return build.getProperty("build.version", "dev");
        } catch (IOException e) {
            return "dev";
        }
    }
}
