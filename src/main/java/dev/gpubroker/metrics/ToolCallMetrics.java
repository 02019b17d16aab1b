package dev.gpubroker.metrics;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import org.springframework.stereotype.Component;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * MCP tool calls by tool and outcome ({@code gpubroker_tool_calls_seconds}): {@code ok}, or the error code the call was
 * answered with (those its schema declares, a handful per tool). Every tool call is a POST to /mcp, so the HTTP
 * server's request metrics cannot tell a {@code job_status} from a {@code pay} or an answer from a refusal; this can,
 * and /mcp is left out of those (mcp.http.McpHttpConfiguration). The timers are kept here, not looked up in the
 * registry at every call: this runs on every call of the hot path.
 */
@Component
public class ToolCallMetrics {

    static final String CALLS = "gpubroker.tool.calls";

    private final MeterRegistry registry;
    private final Map<List<String>, Timer> timers = new ConcurrentHashMap<>();

    public ToolCallMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    public void called(String tool, String outcome, long nanos) {
        timers.computeIfAbsent(List.of(tool, outcome), key -> Timer.builder(CALLS)
                        .description("MCP tool calls, from the call's arrival at the tool to its answer, by tool and "
                                + "outcome (ok, or the error code answered)")
                        .tag("tool", tool)
                        .tag("outcome", outcome)
                        .register(registry))
                .record(nanos, TimeUnit.NANOSECONDS);
    }
}
