package dev.gpubroker.mcp.tools;

import java.util.LinkedHashMap;
import java.util.Map;

import org.springframework.stereotype.Component;

import dev.gpubroker.identity.Agent;
import dev.gpubroker.jobs.JobService;
import dev.gpubroker.mcp.ToolArguments;
import dev.gpubroker.mcp.ToolError;
import dev.gpubroker.mcp.ToolHandler;
import dev.gpubroker.mcp.ToolResult;
import reactor.core.publisher.Mono;

/** {@code job_logs}: a page of a job's output, with a cursor for the next one. */
@Component
class JobLogsTool implements ToolHandler {

    private static final int DEFAULT_LIMIT = 200;

    private final JobService jobs;

    JobLogsTool(JobService jobs) {
        this.jobs = jobs;
    }

    @Override
    public String name() {
        return "job_logs";
    }

    @Override
    public Mono<ToolResult> handle(Agent caller, ToolArguments arguments) {
        String jobId = arguments.string("jobId");
        return jobs.find(caller.agentId(), jobId)
                .flatMap(job -> jobs.logs(job, arguments.optionalString("cursor").orElse(null),
                        arguments.optionalInteger("limit").orElse(DEFAULT_LIMIT)))
                .map(page -> {
                    Map<String, Object> output = new LinkedHashMap<>();
                    output.put("jobId", jobId);
                    output.put("lines", page.lines());
                    output.put("nextCursor", page.nextCursor());
                    return ToolResult.success(output);
                })
                .defaultIfEmpty(ToolResult.failure(new ToolError("job_not_found", "no job " + jobId + " exists for this agent",
                        "jobId", "use a jobId from run")));
    }
}
