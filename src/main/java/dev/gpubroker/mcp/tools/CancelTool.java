package dev.gpubroker.mcp.tools;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import org.springframework.stereotype.Component;

import dev.gpubroker.identity.Agent;
import dev.gpubroker.jobs.CancelOutcome;
import dev.gpubroker.jobs.JobService;
import dev.gpubroker.jobs.ReservationCancellation;
import dev.gpubroker.mcp.JobViews;
import dev.gpubroker.mcp.ToolArguments;
import dev.gpubroker.mcp.ToolError;
import dev.gpubroker.mcp.ToolHandler;
import dev.gpubroker.mcp.ToolResult;
import dev.gpubroker.jobs.Job;
import dev.gpubroker.scheduler.Reservation;
import dev.gpubroker.scheduler.ReservationService;
import reactor.core.publisher.Mono;

/**
 * {@code cancel}: stops a job (what was used is settled, the rest refunded) or drops a reservation (unpaid: released;
 * paid without a job: refunded in full; being paid: refunded once the deposit confirms; running: its job stopped), as
 * {@link ReservationCancellation} decides. Idempotent: cancelling what has ended answers its final state.
 */
@Component
class CancelTool implements ToolHandler {

    private final JobService jobs;
    private final ReservationService reservations;
    private final ReservationCancellation cancellation;

    CancelTool(JobService jobs, ReservationService reservations, ReservationCancellation cancellation) {
        this.jobs = jobs;
        this.reservations = reservations;
        this.cancellation = cancellation;
    }

    @Override
    public String name() {
        return "cancel";
    }

    @Override
    public Mono<ToolResult> handle(Agent caller, ToolArguments arguments) {
        Optional<String> jobId = arguments.optionalString("jobId");
        Optional<String> reservationId = arguments.optionalString("reservationId");
        if (jobId.isPresent() == reservationId.isPresent()) {
            return Mono.just(ToolResult.failure(ToolError.invalidArgument(jobId.isPresent() ? "reservationId" : "jobId",
                    "give exactly one of jobId and reservationId")));
        }
        return jobId.isPresent() ? cancelJob(caller, jobId.get()) : cancelReservation(caller, reservationId.get());
    }

    private Mono<ToolResult> cancelJob(Agent caller, String jobId) {
        return jobs.find(caller.agentId(), jobId)
                .flatMap(jobs::cancel)
                .flatMap(this::jobResult)
                .defaultIfEmpty(ToolResult.failure(new ToolError("job_not_found", "no job " + jobId + " exists for this agent",
                        "jobId", "use a jobId from run")));
    }

    private Mono<ToolResult> jobResult(Job job) {
        return jobs.snapshot(job).map(snapshot -> {
            Map<String, Object> output = JobViews.status(snapshot);
            output.put("nextStep", job.state().isFinal() ? "the job has ended; job_status shows the settlement"
                    : "the job is stopping; call job_status to see the settlement and refund");
            return ToolResult.success(output);
        });
    }

    private Mono<ToolResult> cancelReservation(Agent caller, String reservationId) {
        return reservations.findForAgent(caller.agentId(), reservationId)
                .flatMap(reservation -> cancellation.cancel(reservation, "its agent"))
                .flatMap(outcome -> switch (outcome) {
                    case CancelOutcome.Released released -> Mono.just(reservationResult(released.reservation(),
                            released.reservation().amount().toDecimalString(), null,
                            "cancelled: nothing was paid; the GPUs and your budget are released"));
                    case CancelOutcome.Refunding refunding -> Mono.just(reservationResult(refunding.reservation(),
                            refunding.reservation().amount().toDecimalString(), refunding.refundTx(),
                            (refunding.earlier() ? "a refund of this reservation is already on its way"
                                    : "the whole deposit is being refunded") + "; no job can start on this reservation "
                                    + "any more; call account to see it back in your wallet"));
                    case CancelOutcome.RefundAfterPayment paying -> Mono.just(reservationResult(paying.reservation(),
                            paying.reservation().amount().toDecimalString(), null,
                            "a payment of this reservation is being confirmed: once it confirms, its whole deposit is "
                                    + "refunded; if it fails, nothing was paid; call account to follow it"));
                    case CancelOutcome.JobStopping stopping -> jobResult(stopping.job());
                    case CancelOutcome.AlreadyClosed closed -> Mono.just(reservationResult(closed.reservation(), "0.00",
                            null, "this reservation is already " + closed.reservation().state().wireName()
                                    + "; nothing to cancel"));
                })
                .defaultIfEmpty(ToolResult.failure(new ToolError("reservation_not_found", "no reservation " + reservationId
                        + " exists for this agent", "reservationId", "use a reservationId from reserve or account")));
    }

    private static ToolResult reservationResult(Reservation reservation, String refund, String refundTx, String nextStep) {
        Map<String, Object> output = new LinkedHashMap<>();
        output.put("reservationId", reservation.reservationId());
        output.put("status", reservation.state().wireName());
        output.put("refund", refund);
        output.put("settlementTx", refundTx);
        output.put("nextStep", nextStep);
        return ToolResult.success(output);
    }
}
