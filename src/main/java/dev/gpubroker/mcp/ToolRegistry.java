package dev.gpubroker.mcp;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Collectors;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;
import org.springframework.stereotype.Component;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

import io.modelcontextprotocol.server.McpAsyncServerExchange;
import io.modelcontextprotocol.server.McpServerFeatures.AsyncToolSpecification;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import io.modelcontextprotocol.spec.McpServerTransportProviderBase;

import dev.gpubroker.audit.AuditLog;
import dev.gpubroker.identity.Agent;
import dev.gpubroker.metrics.ToolCallMetrics;
import reactor.core.publisher.Mono;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.util.RawValue;

/**
 * Joins the tool contract ({@code tool-schemas/}) with the handlers. Every schema needs a handler and every handler
 * a schema: the server refuses to start otherwise. Each call is authenticated, checked against the inputSchema,
 * handled, and answered as structured content plus the same JSON as text; a bug in a handler becomes an
 * {@code internal_error} result without details (which could leak), and is logged in full.
 */
@Component
public class ToolRegistry {

    private static final Logger log = LoggerFactory.getLogger(ToolRegistry.class);

    private final Map<String, ToolContract> contracts;
    private final Map<String, ToolHandler> handlers;
    private final ToolArgumentValidator validator;
    private final JsonMapper json;
    private final AuditLog audit;
    private final ToolCallMetrics metrics;
    private final boolean strictErrorCodes;
    private final List<String> toolNames;
    /**
     * The JSON of answers that handlers answer again unchanged ({@link ToolResult#repeated}), by the answer object itself:
     * weak keys compare by identity, and an answer its handler no longer keeps is dropped with its JSON.
     */
    private final Cache<Map<String, Object>, String> repeatedAnswers = Caffeine.newBuilder()
            .weakKeys().maximumSize(10_000).build();

    public ToolRegistry(ToolContractCatalog catalog, List<ToolHandler> handlerBeans, ToolArgumentValidator validator,
            JsonMapper json, AuditLog audit, ToolCallMetrics metrics,
            @org.springframework.beans.factory.annotation.Value("${gpubroker.mcp.strict-error-codes:false}")
            boolean strictErrorCodes) {
        this.audit = audit;
        this.metrics = metrics;
        this.strictErrorCodes = strictErrorCodes;
        this.contracts = catalog.contracts().stream()
                .collect(Collectors.toMap(ToolContract::name, Function.identity(), (a, b) -> {
                    throw new IllegalStateException("two tool schemas are named " + a.name());
                }, LinkedHashMap::new));
        this.handlers = handlerBeans.stream()
                .collect(Collectors.toMap(ToolHandler::name, Function.identity(), (a, b) -> {
                    throw new IllegalStateException("two tool handlers are named " + a.name());
                }));
        Set<String> withoutHandler = new TreeSet<>(contracts.keySet());
        withoutHandler.removeAll(handlers.keySet());
        Set<String> withoutSchema = new TreeSet<>(handlers.keySet());
        withoutSchema.removeAll(contracts.keySet());
        if (!withoutHandler.isEmpty() || !withoutSchema.isEmpty()) {
            throw new IllegalStateException("the tool contract and the handlers disagree: schemas without a handler "
                    + withoutHandler + ", handlers without a schema " + withoutSchema
                    + " (tool-schemas/<name>.json and a ToolHandler must come together)");
        }
        this.validator = validator;
        this.json = json;
        this.toolNames = List.copyOf(contracts.keySet());
    }

    /** Read by the request guard at every request. */
    public List<String> toolNames() {
        return toolNames;
    }

    /**
     * The tools for one MCP server, each calling through {@code callers} to find the agent; progress a tool reports
     * goes through {@code transport} to the calling session.
     */
    public List<AsyncToolSpecification> specifications(CallerResolver callers, McpServerTransportProviderBase transport) {
        List<AsyncToolSpecification> specifications = new ArrayList<>();
        for (ToolContract contract : contracts.values()) {
            specifications.add(AsyncToolSpecification.builder()
                    .tool(toTool(contract))
                    .callHandler((exchange, request) -> call(contract.name(), callers, transport, exchange, request))
                    .build());
        }
        return specifications;
    }

    /** Handles one call of the named tool, as the specifications above do. */
    Mono<CallToolResult> call(String toolName, CallerResolver callers, McpServerTransportProviderBase transport,
            McpAsyncServerExchange exchange, McpSchema.CallToolRequest request) {
        ToolContract contract = contracts.get(toolName);
        return call(contract, handlers.get(toolName), callers, exchange, request, request.progressToken() == null
                ? ProgressChannel.NONE
                : new SessionProgressChannel(request.progressToken(), exchange.sessionId(), transport));
    }

    private Mono<CallToolResult> call(ToolContract contract, ToolHandler handler, CallerResolver callers,
            McpAsyncServerExchange exchange, McpSchema.CallToolRequest request, ProgressChannel progress) {
        long startNanos = System.nanoTime();
        boolean readOnly = contract.hint("readOnlyHint");
        String[] agentId = {"-"};
        return callers.resolve(exchange.transportContext())
                .doOnNext(agent -> agentId[0] = agent.agentId())
                .map(agent -> invoke(contract, handler, agent, request.arguments(), request.meta(), progress))
                .defaultIfEmpty(Mono.just(ToolResult.failure(new ToolError("unauthenticated",
                        "this call carries no valid agent API key", null, callers.unauthenticatedHint()))))
                .flatMap(Function.identity())
                .onErrorResume(error -> {
                    log.error("Tool {} failed with a bug or an infrastructure fault", contract.name(), error);
                    return Mono.just(ToolResult.failure(new ToolError("internal_error",
                            "the server failed to handle this call; nothing was charged",
                            null, "retry in a few seconds; if it keeps failing, tell the operator")));
                })
                .flatMap(result -> {
                    ToolError refusal = refusalOf(result);
                    String outcome = refusal != null ? refusal.code() : "ok";
                    long nanos = System.nanoTime() - startNanos;
                    metrics.called(contract.name(), outcome, nanos);
                    // A read is in the audit log and the tool metrics; a line each in the log, thousands a second
                    // from agents polling job_status, cost about 2 % of the broker's CPU (HotPathBenchmark).
                    log.atLevel(readOnly ? Level.DEBUG : Level.INFO).log("tool {} by {} -> {} in {} ms",
                            contract.name(), agentId[0], outcome, nanos / 1_000_000);
                    String detail = refusal != null ? refusal.message() : null;
                    // A call that changed something is answered only once its line is committed; a read's line goes
                    // with the next group commit, so that reading costs no commit of its own (AuditLog).
                    Mono<Void> audited = readOnly
                            ? audit.recordRead("agent", agentId[0], "tool:" + contract.name(), request.arguments(),
                                    outcome, detail)
                            : audit.record("agent", agentId[0], "tool:" + contract.name(), request.arguments(), outcome,
                                    detail);
                    return audited.thenReturn(toCallToolResult(result));
                });
    }

    private Mono<ToolResult> invoke(ToolContract contract, ToolHandler handler, Agent agent, Map<String, Object> arguments,
            Map<String, Object> meta, ProgressChannel progress) {
        return validator.validate(contract, arguments)
                .map(error -> Mono.just(ToolResult.failure(error)))
                .orElseGet(() -> Mono.defer(() -> handler.handle(agent, new ToolArguments(arguments, meta), progress)))
                .map(result -> declared(contract, result));
    }

    private static ToolError refusalOf(ToolResult result) {
        return switch (result) {
            case ToolResult.Success ignored -> null;
            case ToolResult.Failure failure -> failure.error();
            case ToolResult.PaymentRequired required -> required.error();
        };
    }

    /**
     * An error code the tool's schema does not declare is a contract bug: clients and docs/tools.md only know the
     * declared ones. Logged always; with {@code gpubroker.mcp.strict-error-codes} (the tests) it fails the call.
     */
    private ToolResult declared(ToolContract contract, ToolResult result) {
        ToolError refusal = refusalOf(result);
        if (refusal != null && !contract.declares(refusal.code())) {
            String problem = "tool " + contract.name() + " answered error code " + refusal.code()
                    + ", which tool-schemas/" + contract.name() + ".json does not declare under errors";
            if (strictErrorCodes) {
                throw new IllegalStateException(problem);
            }
            log.error(problem);
        }
        return result;
    }

    private CallToolResult toCallToolResult(ToolResult result) {
        return switch (result) {
            case ToolResult.Success success -> {
                // The answer is written as JSON once: its text copy, which the transport then writes verbatim as
                // structuredContent too, where it would otherwise write the same map a second time.
                String answer = success.repeated() ? repeatedAnswers.get(success.output(), json::writeValueAsString)
                        : json.writeValueAsString(success.output());
                yield CallToolResult.builder()
                        .structuredContent(new RawValue(answer))
                        .addTextContent(answer)
                        .isError(false)
                        .meta(success.meta().isEmpty() ? null : success.meta())
                        .build();
            }
            case ToolResult.Failure failure -> failureResult(failure.error(), json);
            case ToolResult.PaymentRequired required -> paymentRequiredResult(required, json);
        };
    }

    /**
     * x402 over MCP (transport v2, tool-result binding): {@code isError} with the PaymentRequired object as
     * {@code structuredContent} and, as the first text, the same object as JSON (where x402 clients that cannot read
     * structured content look); then the usual {@code {"error": ...}} text, for a model. structuredContent on an error
     * is what the x402 spec asks for; MCP clients validate structuredContent against the outputSchema only on success.
     */
    static CallToolResult paymentRequiredResult(ToolResult.PaymentRequired required, JsonMapper json) {
        CallToolResult plain = failureResult(required.error(), json);
        return CallToolResult.builder()
                .structuredContent(required.paymentRequired())
                .addTextContent(json.writeValueAsString(required.paymentRequired()))
                .addContent(plain.content().getFirst())
                .isError(true)
                .build();
    }

    /**
     * A refusal as every tool answers it: {@code isError} with {@code {"error": {"code", "message", "field",
     * "nextStep"}}} as text.
     */
    static CallToolResult failureResult(ToolError failure, JsonMapper json) {
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("code", failure.code());
        error.put("message", failure.message());
        if (failure.field() != null) {
            error.put("field", failure.field());
        }
        error.put("nextStep", failure.nextStep());
        // No structuredContent on errors: clients validate it against the tool's outputSchema, which describes
        // success. The error travels as JSON text instead, readable by a model and by code.
        Map<String, Object> body = Map.of("error", error);
        return CallToolResult.builder()
                .addTextContent(json.writeValueAsString(body))
                .isError(true)
                .build();
    }

    /**
     * A result's structured content as a schema validator reads it: a success carries its answer as written JSON
     * ({@link #toCallToolResult}), read back here.
     */
    public static Object readableContent(Object structuredContent, JsonMapper json) {
        return structuredContent instanceof RawValue written ? json.readValue(String.valueOf(written.rawValue()), Map.class)
                : structuredContent;
    }

    static McpSchema.Tool toTool(ToolContract contract) {
        return McpSchema.Tool.builder()
                .name(contract.name())
                .title(contract.title())
                .description(contract.description())
                .inputSchema(contract.inputSchema())
                .outputSchema(contract.outputSchema())
                .annotations(McpSchema.ToolAnnotations.builder()
                        .title(contract.title())
                        .readOnlyHint(contract.hint("readOnlyHint"))
                        .destructiveHint(contract.hint("destructiveHint"))
                        .idempotentHint(contract.hint("idempotentHint"))
                        .openWorldHint(contract.hint("openWorldHint"))
                        .build())
                .build();
    }
}
