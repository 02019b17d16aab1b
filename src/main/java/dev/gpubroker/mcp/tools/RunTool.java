package dev.gpubroker.mcp.tools;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.springframework.stereotype.Component;

import dev.gpubroker.identity.Agent;
import dev.gpubroker.jobs.JobService;
import dev.gpubroker.jobs.RunOutcome;
import dev.gpubroker.mcp.ToolArguments;
import dev.gpubroker.mcp.ToolError;
import dev.gpubroker.mcp.ToolHandler;
import dev.gpubroker.mcp.ProgressChannel;
import dev.gpubroker.mcp.ToolResult;
import reactor.core.publisher.Mono;

/**
 * {@code run}: starts a job on a paid reservation and answers its id at once; with a progress token, the job's state
 * changes follow as progress notifications ({@link RunProgress}).
 */
@Component
class RunTool implements ToolHandler {

    private final JobService jobs;
    private final RunProgress progress;

    RunTool(JobService jobs, RunProgress progress) {
        this.jobs = jobs;
        this.progress = progress;
    }

    @Override
    public String name() {
        return "run";
    }

    @Override
    public Mono<ToolResult> handle(Agent caller, ToolArguments arguments) {
        return handle(caller, arguments, ProgressChannel.NONE);
    }

    @Override
    @SuppressWarnings("unchecked")
    public Mono<ToolResult> handle(Agent caller, ToolArguments arguments, ProgressChannel progressChannel) {
        List<String> command = arguments.optionalStrings("command").orElseThrow();
        Map<String, String> environment = new LinkedHashMap<>();
        arguments.optionalObject("env").ifPresent(env -> env.forEach((name, value) -> environment.put(name, (String) value)));
        return jobs.run(caller.agentId(), arguments.string("reservationId"), command,
                        arguments.optionalString("image").orElse(null), environment,
                        arguments.optionalInteger("maxDurationMinutes").orElse(null),
                        arguments.optionalInteger("heartbeatSeconds").orElse(null), arguments.string("idempotencyKey"))
                .map(outcome -> switch (outcome) {
                    case RunOutcome.Started started -> {
                        if (progressChannel.requested()) {
                            progress.follow(started.job(), progressChannel);
                        }
                        Map<String, Object> output = new LinkedHashMap<>();
                        output.put("jobId", started.job().jobId());
                        output.put("status", started.job().state().wireName());
                        output.put("reservationId", started.job().reservationId());
                        output.put("provider", started.job().provider());
                        output.put("maxDurationSeconds", started.job().maxDurationSeconds());
                        output.put("statusUri", "gpubroker://jobs/" + started.job().jobId());
                        output.put("logsUri", "gpubroker://jobs/" + started.job().jobId() + "/logs");
                        output.put("replayed", started.replayed());
                        output.put("nextStep", "call job_status with the jobId to follow it, job_logs for its output, "
                                + "cancel to stop it early (you pay only for the GPU-seconds used)");
                        yield ToolResult.success(output);
                    }
                    case RunOutcome.Refused refused -> ToolResult.failure(new ToolError(refused.code(), refused.message(),
                            refused.field(), refused.nextStep()));
                });
    }
}
