package dev.gpubroker.mcp.tools;

import java.util.Map;

import org.springframework.stereotype.Component;

import dev.gpubroker.identity.Agent;
import dev.gpubroker.jobs.JobService;
import dev.gpubroker.mcp.ToolArguments;
import dev.gpubroker.mcp.ToolError;
import dev.gpubroker.mcp.ToolHandler;
import dev.gpubroker.mcp.ToolResult;
import reactor.core.publisher.Mono;

/**
 * {@code cancel}: stops a job (what was used is settled, the rest refunded). Idempotent: cancelling an ended job
 * answers its final state.
 */
@Component
class CancelTool implements ToolHandler {

    private final JobService jobs;

    CancelTool(JobService jobs) {
        this.jobs = jobs;
    }

    @Override
    public String name() {
        return "cancel";
    }

    @Override
    public Mono<ToolResult> handle(Agent caller, ToolArguments arguments) {
        String jobId = arguments.string("jobId");
        return jobs.find(caller.agentId(), jobId)
                .flatMap(jobs::cancel)
                .flatMap(job -> jobs.events(jobId).collectList().map(events -> {
                    Map<String, Object> output = JobViews.status(job, events);
                    output.put("nextStep", job.state().isFinal() ? "the job has ended; job_status shows the settlement"
                            : "the job is stopping; call job_status to see the settlement and refund");
                    return ToolResult.success(output);
                }))
                .defaultIfEmpty(ToolResult.failure(new ToolError("job_not_found", "no job " + jobId + " exists for this agent",
                        "jobId", "use a jobId from run")));
    }
}
