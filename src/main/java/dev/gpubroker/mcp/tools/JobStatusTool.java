package dev.gpubroker.mcp.tools;

import java.util.Collections;

import org.springframework.stereotype.Component;

import dev.gpubroker.identity.Agent;
import dev.gpubroker.jobs.JobService;
import dev.gpubroker.jobs.JobSnapshot;
import dev.gpubroker.mcp.JobViews;
import dev.gpubroker.mcp.ToolArguments;
import dev.gpubroker.mcp.ToolError;
import dev.gpubroker.mcp.ToolHandler;
import dev.gpubroker.mcp.ToolResult;
import reactor.core.publisher.Mono;

/** {@code job_status}: where a job stands, what it used and cost, and why anything changed. */
@Component
class JobStatusTool implements ToolHandler {

    private final JobService jobs;
    /**
     * By job (the owner checked before): agents poll it, and a running job's meter counts whole seconds, so most calls
     * show what the last one showed.
     */
    private final LastAnswers<String, JobSnapshot> answers =
            new LastAnswers<>(snapshot -> Collections.unmodifiableMap(JobViews.status(snapshot)));

    JobStatusTool(JobService jobs) {
        this.jobs = jobs;
    }

    @Override
    public String name() {
        return "job_status";
    }

    @Override
    public Mono<ToolResult> handle(Agent caller, ToolArguments arguments) {
        String jobId = arguments.string("jobId");
        return jobs.status(caller.agentId(), jobId).map(snapshot -> answers.answer(jobId, snapshot))
                .defaultIfEmpty(ToolResult.failure(new ToolError("job_not_found", "no job " + jobId + " exists for this agent",
                        "jobId", "use a jobId from run")));
    }
}
