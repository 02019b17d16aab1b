package dev.gpubroker.mcp;

import java.time.Duration;

import org.springframework.boot.info.BuildProperties;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.json.jackson3.JacksonMcpJsonMapper;
import io.modelcontextprotocol.json.schema.JsonSchemaValidator;
import io.modelcontextprotocol.json.schema.jackson3.DefaultJsonSchemaValidator;
import io.modelcontextprotocol.server.McpAsyncServer;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpServerTransportProvider;
import io.modelcontextprotocol.spec.McpServerTransportProviderBase;
import io.modelcontextprotocol.spec.McpStreamableServerTransportProvider;

import dev.gpubroker.mcp.JobResources;
import reactor.core.publisher.Mono;

import tools.jackson.databind.json.JsonMapper;

/**
 * Builds the MCP server the same way for every transport, so stdio and streamable HTTP serve the same tools with
 * the same behaviour.
 */
@Component
public class McpServerFactory {

    static final String INSTRUCTIONS = """
            GPU Broker sells GPU time from several providers, paid in USDC. Typical flow: call `quote` with the GPU model \
            and duration you need; pick a quote (they are ranked best first by reliability-adjusted expected cost) and \
            call `reserve` with its quoteId before it expires (about 60 s); then pay and run. Money is a decimal USDC \
            string. Every call that changes something takes an idempotencyKey: reuse it when you retry.""";

    private final ToolRegistry tools;
    private final McpJsonMapper jsonMapper;
    private final JsonMapper json;
    private final String version;
    private final boolean validateResults;

    private final JobResources jobResources;

    public McpServerFactory(ToolRegistry tools, JsonMapper json, ObjectProvider<BuildProperties> build,
            JobResources jobResources,
            @Value("${gpubroker.mcp.validate-results:false}")
            boolean validateResults) {
        this.validateResults = validateResults;
        this.jobResources = jobResources;
        this.tools = tools;
        this.json = json;
        this.jsonMapper = new DirectRecordsJsonMapper(new JacksonMcpJsonMapper(json));
        BuildProperties properties = build.getIfAvailable();
        this.version = properties == null ? "dev" : properties.getVersion();
    }

    public McpJsonMapper jsonMapper() {
        return jsonMapper;
    }

    public McpAsyncServer create(McpStreamableServerTransportProvider transport, CallerResolver callers) {
        McpStreamableServerTransportProvider gated = gate(callers).around(transport);
        return configure(McpServer.async(gated), gated, callers);
    }

    public McpAsyncServer create(McpServerTransportProvider transport, CallerResolver callers) {
        McpServerTransportProvider gated = gate(callers).around(transport);
        return configure(McpServer.async(gated), gated, callers);
    }

    private ResourceUpdateGate gate(CallerResolver callers) {
        return new ResourceUpdateGate(callers, jobResources::isReadableBy);
    }

    private McpAsyncServer configure(McpServer.AsyncSpecification<?> specification, McpServerTransportProviderBase transport,
            CallerResolver callers) {
        McpAsyncServer server = specification
                .serverInfo("gpu-broker", version)
                .instructions(INSTRUCTIONS)
                .capabilities(capabilities())
                .jsonMapper(jsonMapper)
                .jsonSchemaValidator(validateResults ? checkedResults() : TRUSTED_RESULTS)
                // Arguments are checked by ToolArgumentValidator, which answers with the field at fault.
                .validateToolInputs(false)
                .requestTimeout(Duration.ofSeconds(60))
                .tools(tools.specifications(callers, transport))
                .resourceTemplates(jobResources.specifications(callers))
                .build();
        announceJobChanges(server);
        return server;
    }

    /** Subscribed sessions hear of every change of a job; ResourceUpdateGate lets through only the job's agent's. */
    void announceJobChanges(McpAsyncServer server) {
        jobResources.changedUris()
                .concatMap(uri -> server.notifyResourcesUpdated(new McpSchema.ResourcesUpdatedNotification(uri))
                        .onErrorResume(error -> Mono.empty()))
                .subscribe();
    }

    /**
     * The SDK checks every tool result's structured content against the tool's outputSchema, on every call. The
     * results are built from this server's own records, and the tests run with the check on
     * ({@code gpubroker.mcp.validate-results}, as {@code strict-error-codes}), so a result that does not match its
     * schema fails there; in production the check cost a few per cent of a read's CPU (docs/performance.md). Clients
     * still validate what they receive. Every result also carries its JSON as text, so the SDK never needs the text
     * this answer would give it.
     */
    private static final JsonSchemaValidator TRUSTED_RESULTS = (schema, content) ->
            JsonSchemaValidator.ValidationResponse.asValid(null);

    /** The SDK's validator, reading each answer from the JSON it was written as. */
    private JsonSchemaValidator checkedResults() {
        JsonSchemaValidator validator = new DefaultJsonSchemaValidator(json);
        return (schema, content) -> validator.validate(schema, ToolRegistry.readableContent(content, json));
    }

    ToolRegistry tools() {
        return tools;
    }

    JobResources jobResources() {
        return jobResources;
    }

    static McpSchema.ServerCapabilities capabilities() {
        return McpSchema.ServerCapabilities.builder().tools(false).resources(true, false).logging().build();
    }
}
