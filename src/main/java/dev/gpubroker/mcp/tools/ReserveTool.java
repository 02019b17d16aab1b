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
import dev.gpubroker.scheduler.Reservation;
import dev.gpubroker.scheduler.ReservationService;
import dev.gpubroker.scheduler.ReserveOutcome;
import reactor.core.publisher.Mono;

/** {@code reserve}: holds a quoted offer's capacity for the quoted price until the hold expires. */
@Component
class ReserveTool implements ToolHandler {

    private final ReservationService reservations;
    private final PaymentTerms paymentTerms;

    ReserveTool(ReservationService reservations, PaymentTerms paymentTerms) {
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
                .map(outcome -> switch (outcome) {
                    case ReserveOutcome.Reserved reserved -> ToolResult.success(toOutput(reserved));
                    case ReserveOutcome.Refused refused -> ToolResult.failure(new ToolError(
                            refused.reason().name().toLowerCase(java.util.Locale.ROOT), refused.message(),
                            fieldOf(refused.reason()), refused.nextStep()));
                });
    }

    private Map<String, Object> toOutput(ReserveOutcome.Reserved reserved) {
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
        output.put("nextStep", reservation.state() == dev.gpubroker.scheduler.ReservationState.HELD
                ? "call pay with this reservationId and a new idempotencyKey before holdExpiresAt"
                : "this reservation is " + reservation.state().wireName() + "; call account to see it");
        if (reservation.stateReason() != null) {
            output.put("statusReason", reservation.stateReason());
        }
        return output;
    }

    private static String fieldOf(ReserveOutcome.Reason reason) {
        return switch (reason) {
            case QUOTE_NOT_FOUND, QUOTE_EXPIRED, QUOTE_ALREADY_RESERVED -> "quoteId";
            case IDEMPOTENCY_KEY_REUSED, IN_PROGRESS -> "idempotencyKey";
            default -> null;
        };
    }
}
