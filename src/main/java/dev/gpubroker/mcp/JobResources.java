package dev.gpubroker.mcp;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.springframework.stereotype.Component;

import io.modelcontextprotocol.server.McpServerFeatures.AsyncResourceTemplateSpecification;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;

import dev.gpubroker.jobs.JobService;
import dev.gpubroker.jobs.JobUpdates;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import tools.jackson.databind.json.JsonMapper;

/**
 * A job as MCP resources: {@code gpubroker://jobs/{id}} (its status, as job_status answers it) and
 * {@code gpubroker://jobs/{id}/logs} (its latest output). A client that subscribes gets
 * {@code notifications/resources/updated} on each change. Only the job's own agent can read them.
 */
@Component
public class JobResources {

    private static final Pattern STATUS = Pattern.compile("gpubroker://jobs/([A-Za-z0-9_-]{1,64})");
    private static final Pattern LOGS = Pattern.compile("gpubroker://jobs/([A-Za-z0-9_-]{1,64})/logs");
    private static final int LOG_LINES_MAX = 200;

    private final JobService jobs;
    private final JobUpdates updates;
    private final JsonMapper json;

    JobResources(JobService jobs, JobUpdates updates, JsonMapper json) {
        this.jobs = jobs;
        this.updates = updates;
        this.json = json;
    }

    public List<AsyncResourceTemplateSpecification> specifications(CallerResolver callers) {
        return List.of(
                new AsyncResourceTemplateSpecification(STATUS_TEMPLATE,
                        (exchange, request) -> read(callers, exchange.transportContext(), request.uri(), false)),
                new AsyncResourceTemplateSpecification(LOGS_TEMPLATE,
                        (exchange, request) -> read(callers, exchange.transportContext(), request.uri(), true)));
    }

    /** A job's status: {@code gpubroker://jobs/{jobId}}. A constant, so it can be listed before the application is up. */
    public static final McpSchema.ResourceTemplate STATUS_TEMPLATE = McpSchema.ResourceTemplate.builder()
            .uriTemplate("gpubroker://jobs/{jobId}").name("job").title("A job's status")
            .description("Status, GPU-seconds, cost, refund, settlement and events of one of your jobs; "
                    + "subscribe to be told of every change.")
            .mimeType("application/json").build();

    /** A job's output: {@code gpubroker://jobs/{jobId}/logs}. */
    public static final McpSchema.ResourceTemplate LOGS_TEMPLATE = McpSchema.ResourceTemplate.builder()
            .uriTemplate("gpubroker://jobs/{jobId}/logs").name("job-logs").title("A job's output")
            .description("The first " + LOG_LINES_MAX + " lines of one of your jobs' output; job_logs pages "
                    + "through all of it.")
            .mimeType("text/plain").build();

    /**
     * Whether this agent may read (and so watch) the resource: a job URI of one of its own jobs. Unknown URIs, other
     * agents' jobs and malformed URIs all answer false, alike.
     */
    public Mono<Boolean> isReadableBy(String agentId, String uri) {
        String jobId = jobIdOf(uri);
        return jobId == null ? Mono.just(false) : jobs.find(agentId, jobId).hasElement();
    }

    /** The job a job resource URI names, or null when the URI is not one. */
    static String jobIdOf(String uri) {
        if (uri == null) {
            return null;
        }
        Matcher matcher = STATUS.matcher(uri);
        if (matcher.matches()) {
            return matcher.group(1);
        }
        matcher = LOGS.matcher(uri);
        return matcher.matches() ? matcher.group(1) : null;
    }

    /** The URIs to announce when a job changes. */
    public Flux<String> changedUris() {
        return updates.changes().flatMapIterable(jobId -> List.of("gpubroker://jobs/" + jobId,
                "gpubroker://jobs/" + jobId + "/logs"));
    }

    /** Reads a job resource for the caller: {@code logs} picks {@link #LOGS_TEMPLATE}, else {@link #STATUS_TEMPLATE}. */
    public Mono<McpSchema.ReadResourceResult> read(CallerResolver callers,
            io.modelcontextprotocol.common.McpTransportContext context, String uri, boolean logs) {
        Matcher matcher = (logs ? LOGS : STATUS).matcher(uri);
        if (!matcher.matches()) {
            return Mono.error(notFound(uri));
        }
        String jobId = matcher.group(1);
        return callers.resolve(context)
                .flatMap(agent -> jobs.find(agent.agentId(), jobId))
                .switchIfEmpty(Mono.error(notFound(uri)))
                .flatMap(job -> logs
                        ? jobs.logs(job, null, LOG_LINES_MAX).map(page -> contents(uri, "text/plain",
                                String.join("\n", page.lines())))
                        : jobs.snapshot(job).map(snapshot -> contents(uri, "application/json",
                                json.writeValueAsString(JobViews.status(snapshot)))));
    }

    private static McpSchema.ReadResourceResult contents(String uri, String mimeType, String text) {
        return new McpSchema.ReadResourceResult(List.of(new McpSchema.TextResourceContents(uri, mimeType, text)));
    }

    /** Unknown and another agent's jobs look the same. */
    private static McpError notFound(String uri) {
        return McpError.RESOURCE_NOT_FOUND.apply(uri);
    }
}
