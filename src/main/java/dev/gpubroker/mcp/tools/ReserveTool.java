package dev.gpubroker.mcp.tools;

import java.util.LinkedHashMap;
import java.util.Map;

import org.springframework.stereotype.Component;

import dev.gpubroker.identity.Agent;
import dev.gpubroker.mcp.ToolArguments;
import dev.gpubroker.mcp.ToolError;
import dev.gpubroker.mcp.ToolHandler;
import dev.gpubroker.mcp.ToolResult;
import dev.gpubroker.payments.PaymentRequirements;
import dev.gpubroker.payments.PaymentTerms;
import dev.gpubroker.scheduler.Approval;
import dev.gpubroker.scheduler.ApprovalService;
import dev.gpubroker.scheduler.Reservation;
import dev.gpubroker.scheduler.ReservationService;
import dev.gpubroker.scheduler.ReserveOutcome;
import reactor.core.publisher.Mono;

/** {@code reserve}: holds a quoted offer's capacity for the quoted price until the hold expires. */
@Component
class ReserveTool implements ToolHandler {

    private final ReservationService reservations;
    private final PaymentTerms paymentTerms;
    private final ApprovalService approvals;

    ReserveTool(ReservationService reservations, PaymentTerms paymentTerms, ApprovalService approvals) {
        this.approvals = approvals;
        this.reservations = reservations;
        this.paymentTerms = paymentTerms;
    }

    @Override
    public String name() {
        return "reserve";
    }

    @Override
    public Mono<ToolResult> handle(Agent caller, ToolArguments arguments) {
        return reservations.reserve(caller.agentId(), arguments.string("quoteId"), arguments.string("idempotencyKey"))
                .flatMap(outcome -> switch (outcome) {
                    case ReserveOutcome.Reserved reserved -> approvals.forReservation(reserved.reservation().reservationId())
                            .map(approval -> ToolResult.success(toOutput(reserved, approval)))
                            .defaultIfEmpty(ToolResult.success(toOutput(reserved, null)));
                    case ReserveOutcome.Refused refused -> Mono.just(ToolResult.failure(new ToolError(
                            refused.reason().name().toLowerCase(java.util.Locale.ROOT), refused.message(),
                            fieldOf(refused.reason()), refused.nextStep())));
                });
    }

    private Map<String, Object> toOutput(ReserveOutcome.Reserved reserved, Approval approval) {
        Reservation reservation = reserved.reservation();
        PaymentRequirements requirements = paymentTerms.requirementsFor(reservation);

        Map<String, Object> output = new LinkedHashMap<>();
        output.put("reservationId", reservation.reservationId());
        output.put("status", reservation.state().wireName());
        output.put("quoteId", reservation.quoteId());
        output.put("provider", reservation.provider());
        output.put("gpuCount", reservation.gpuCount());
        output.put("amount", reservation.amount().toDecimalString());
        output.put("holdExpiresAt", reservation.holdExpiresAt().toString());
        output.put("paymentRequirements", Outputs.paymentRequirements(requirements));
        output.put("replayed", reserved.replayed());
        if (approval != null) {
            output.put("approvalId", approval.approvalId());
            output.put("approvalStatus", approval.status().wireName());
        }
        output.put("nextStep", switch (reservation.state()) {
            case HELD -> "call pay with this reservationId and a new idempotencyKey before holdExpiresAt";
            case APPROVAL_REQUIRED -> "a person must approve this purchase (approval " + (approval == null ? "?"
                    : approval.approvalId()) + ") before holdExpiresAt; call reserve again with the same arguments to "
                    + "see the decision, then pay";
            default -> "this reservation is " + reservation.state().wireName() + "; call account to see it";
        });
        if (reservation.stateReason() != null) {
            output.put("statusReason", reservation.stateReason());
        }
        return output;
    }

    private static String fieldOf(ReserveOutcome.Reason reason) {
        return switch (reason) {
            case QUOTE_NOT_FOUND, QUOTE_EXPIRED, QUOTE_ALREADY_RESERVED -> "quoteId";
            case IDEMPOTENCY_KEY_REUSED, IN_PROGRESS -> "idempotencyKey";
            case OVER_MAX_PER_RESERVATION, OVER_DAILY_LIMIT, OVER_TOTAL_LIMIT, OVER_MAX_PRICE_PER_GPU_HOUR,
                    PROVIDER_NOT_ALLOWED, GPU_NOT_ALLOWED -> "quoteId";
            default -> null;
        };
    }
}
