package dev.gpubroker.mcp;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.gpubroker.jobs.JobSnapshot;
import dev.gpubroker.jobs.Job;

/** How a job looks to an agent, the same in job_status and cancel. */
public final class JobViews {

    private JobViews() {
    }

    public static Map<String, Object> status(JobSnapshot snapshot) {
        Job job = snapshot.job();
        List<Job.Event> events = snapshot.events();
        Map<String, Object> output = new LinkedHashMap<>();
        output.put("jobId", job.jobId());
        output.put("status", job.state().wireName());
        output.put("provider", job.provider());
        output.put("reservationId", job.reservationId());
        output.put("gpuSeconds", snapshot.gpuSeconds());
        output.put("cost", snapshot.cost().toDecimalString());
        output.put("refund", snapshot.refund().toDecimalString());
        output.put("settlementTx", job.settlementTx());
        output.put("escrowClosed", snapshot.escrowClosed());
        output.put("exitCode", job.exitCode());
        output.put("startedAt", job.startedAt() == null ? null : job.startedAt().toString());
        output.put("endedAt", job.endedAt() == null ? null : job.endedAt().toString());
        // Billing starts where the job started running: for a provider that runs a readiness probe, only once the
        // probe found the promised GPUs (its finding is the "ready" event).
        output.put("billingStartedAt", job.startedAt() == null ? null : job.startedAt().toString());
        // One pass over the events (job_status is polled): the latest readiness finding, and each event as shown.
        String readiness = null;
        List<Map<String, Object>> shown = new ArrayList<>(events.size());
        for (Job.Event event : events) {
            if ("ready".equals(event.kind())) {
                readiness = event.detail();
            }
            shown.add(Map.of("at", event.at().toString(), "kind", event.kind(), "detail", event.detail()));
        }
        output.put("readiness", readiness);
        output.put("events", Collections.unmodifiableList(shown));
        return output;
    }
}
