package dev.gpubroker.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import org.springframework.ai.mcp.server.webflux.transport.WebFluxStreamableServerTransportProvider;
import org.springframework.http.server.reactive.ReactorHttpHandlerAdapter;
import org.springframework.web.reactive.function.server.RouterFunctions;

import io.modelcontextprotocol.json.jackson3.JacksonMcpJsonMapper;
import io.modelcontextprotocol.json.schema.JsonSchemaValidator;
import io.modelcontextprotocol.server.McpAsyncServer;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpServerFeatures.AsyncToolSpecification;
import io.modelcontextprotocol.spec.McpSchema;

import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import tools.jackson.databind.json.JsonMapper;

/**
 * The yardstick of {@link HotPathBenchmark}: the bare MCP Java SDK serving one {@code echo} tool over the same streamable
 * HTTP transport the broker uses ({@code WebFluxStreamableServerTransportProvider} on Reactor Netty), with nothing else:
 * no security chain, no guard, no database. Started as its own process so that it and the broker share the machine the
 * same way. Prints {@code READY <port>} on stdout once it listens.
 *
 * <pre>java -cp &lt;test classpath&gt; dev.gpubroker.bench.EchoMcpServer 9090</pre>
 */
public final class EchoMcpServer {

    private EchoMcpServer() {
    }

    public static void main(String[] args) throws InterruptedException {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 9090;
        JacksonMcpJsonMapper jsonMapper = new JacksonMcpJsonMapper(JsonMapper.builder().build());
        WebFluxStreamableServerTransportProvider transport = WebFluxStreamableServerTransportProvider.builder()
                .jsonMapper(jsonMapper)
                .messageEndpoint("/mcp")
                .build();
        McpSchema.Tool echo = McpSchema.Tool.builder("echo", Map.of("type", "object",
                        "properties", Map.of("text", Map.of("type", "string")), "required", java.util.List.of("text")))
                .description("Answers with its text argument.")
                .build();
        JsonMapper json = JsonMapper.builder().build();
        McpAsyncServer server = McpServer.async(transport)
                .serverInfo("echo", "1")
                .jsonMapper(jsonMapper)
                .capabilities(McpSchema.ServerCapabilities.builder().tools(false).build())
                .requestTimeout(Duration.ofSeconds(60))
                // As the broker does in production: what a server sends is not checked against its own schema again.
                .jsonSchemaValidator((schema, content) -> JsonSchemaValidator.ValidationResponse.asValid(null))
                .tools(AsyncToolSpecification.builder()
                        .tool(echo)
                        .callHandler((exchange, request) -> Mono.just(McpSchema.CallToolResult.builder()
                                .addTextContent(String.valueOf(request.arguments().getOrDefault("text", "")))
                                .isError(false)
                                .build()))
                        .build(),
                        replay("job_status", json), replay("account", json))
                .build();
        DisposableServer http = HttpServer.create()
                .host("127.0.0.1")
                .port(port)
                .handle(new ReactorHttpHandlerAdapter(RouterFunctions.toHttpHandler(transport.getRouterFunction())))
                .bindNow();
        System.out.println("READY " + http.port());
        System.out.flush();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.closeGracefully().block(Duration.ofSeconds(5));
            http.disposeNow(Duration.ofSeconds(5));
        }));
        http.onDispose().block();
    }

    /**
     * {@code replay_<tool>}: answers with the broker tool's last real answer, which the benchmark gives it once as the
     * {@code prime} argument, under the broker tool's own output schema (tool-schemas/): the bare SDK sending what the
     * broker sends, so that the answer's own cost (writing it, and the client reading and checking it) can be told
     * apart from the broker's.
     */
    @SuppressWarnings("unchecked")
    private static AsyncToolSpecification replay(String tool, JsonMapper json) {
        Map<String, Object> contract = json.readValue(Path.of("tool-schemas", tool + ".json").toFile(), Map.class);
        AtomicReference<Map<String, Object>> answer = new AtomicReference<>(Map.of());
        McpSchema.Tool replay = McpSchema.Tool.builder("replay_" + tool, Map.of("type", "object"))
                .description("Answers with the answer it was primed with.")
                .outputSchema((Map<String, Object>) contract.get("outputSchema"))
                .build();
        return AsyncToolSpecification.builder()
                .tool(replay)
                .callHandler((exchange, request) -> {
                    if (request.arguments().get("prime") instanceof Map<?, ?> primed) {
                        answer.set((Map<String, Object>) primed);
                    }
                    Map<String, Object> current = answer.get();
                    return Mono.just(McpSchema.CallToolResult.builder()
                            .structuredContent(current)
                            .addTextContent(json.writeValueAsString(current))
                            .isError(false)
                            .build());
                })
                .build();
    }
}
