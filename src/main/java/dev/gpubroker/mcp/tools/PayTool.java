package dev.gpubroker.mcp.tools;

import java.math.BigInteger;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import org.springframework.stereotype.Component;

import dev.gpubroker.identity.Agent;
import dev.gpubroker.mcp.ToolArguments;
import dev.gpubroker.mcp.ToolError;
import dev.gpubroker.mcp.ToolHandler;
import dev.gpubroker.mcp.ToolResult;
import dev.gpubroker.payments.PayOutcome;
import dev.gpubroker.payments.PaymentService;
import dev.gpubroker.payments.SignedAuthorization;
import dev.gpubroker.payments.chain.ReceiveAuthorization;
import reactor.core.publisher.Mono;

/** {@code pay}: deposits a held reservation's amount into the escrow, from the agent's wallet. */
@Component
class PayTool implements ToolHandler {

    private final PaymentService payments;

    PayTool(PaymentService payments) {
        this.payments = payments;
    }

    @Override
    public String name() {
        return "pay";
    }

    @Override
    public Mono<ToolResult> handle(Agent caller, ToolArguments arguments) {
        Optional<SignedAuthorization> signed;
        try {
            signed = signedAuthorization(arguments);
        } catch (IllegalArgumentException e) {
            return Mono.just(ToolResult.failure(ToolError.invalidArgument("authorization", e.getMessage())));
        }
        return payments.pay(caller, arguments.string("reservationId"), arguments.string("idempotencyKey"), signed)
                .map(outcome -> switch (outcome) {
                    case PayOutcome.Accepted accepted -> ToolResult.success(Outputs.payment(accepted.payment(), accepted.replayed()));
                    case PayOutcome.Refused refused -> ToolResult.failure(new ToolError(
                            refused.reason().name().toLowerCase(Locale.ROOT), refused.message(), refused.field(),
                            refused.nextStep()));
                });
    }

    private static Optional<SignedAuthorization> signedAuthorization(ToolArguments arguments) {
        Optional<Map<String, Object>> authorization = arguments.optionalObject("authorization");
        Optional<String> signature = arguments.optionalString("signature");
        if (authorization.isEmpty() && signature.isEmpty()) {
            return Optional.empty();
        }
        if (authorization.isEmpty() || signature.isEmpty()) {
            throw new IllegalArgumentException("authorization and signature come together (x402 exact payload)");
        }
        Map<String, Object> fields = authorization.get();
        return Optional.of(new SignedAuthorization(new ReceiveAuthorization(
                (String) fields.get("from"), (String) fields.get("to"), new BigInteger((String) fields.get("value")),
                new BigInteger((String) fields.get("validAfter")), new BigInteger((String) fields.get("validBefore")),
                (String) fields.get("nonce")), signature.get()));
    }
}
