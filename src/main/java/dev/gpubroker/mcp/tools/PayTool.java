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
import dev.gpubroker.payments.x402.X402Messages;
import dev.gpubroker.payments.x402.X402Networks;
import dev.gpubroker.payments.x402.X402Payment;
import dev.gpubroker.payments.x402.X402PayloadException;
import reactor.core.publisher.Mono;

/**
 * {@code pay}: deposits a held reservation's amount into the escrow, from the agent's wallet. Speaks x402 over MCP
 * (transport v2): an agent with its own wallet that calls without a payment gets the x402 PaymentRequired; its client
 * retries the same call with the signed payment in {@code _meta["x402/payment"]} (x402 v2 or v1), and the answer
 * carries the settlement in {@code _meta["x402/payment-response"]}. The payment-identifier extension, when sent, is the
 * idempotency key.
 */
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
        Optional<X402Payment> x402;
        Optional<SignedAuthorization> fromArguments;
        try {
            x402 = arguments.meta(X402Payment.META_KEY).map(X402Payment::parse);
        } catch (X402PayloadException e) {
            return invalid(e.field(), e.getMessage());
        }
        try {
            fromArguments = signedAuthorization(arguments);
        } catch (IllegalArgumentException e) {
            return invalid("authorization", e.getMessage());
        }
        if (x402.isPresent() && fromArguments.isPresent()) {
            return invalid("authorization", "send the payment once: in _meta[\"x402/payment\"] or as authorization and "
                    + "signature, not both");
        }
        String reservationId = arguments.string("reservationId");
        if (x402.isPresent() && !X402Networks.names(x402.get().network(), payments.chainId())) {
            return paymentRequired(caller, reservationId, new ToolError("invalid_authorization", "the payment is for "
                    + "network " + x402.get().network() + "; this server takes payments on "
                    + X402Networks.caip2(payments.chainId()) + X402Networks.v1Name(payments.chainId())
                            .map(name -> " (x402 v1: " + name + ")").orElse(""),
                    "_meta.x402/payment.network", "sign again for a network in accepts"));
        }
        // The payment-identifier extension, when the x402 payment carries one, is the idempotency key (x402's own).
        String key = x402.flatMap(X402Payment::paymentIdentifier).orElseGet(() -> arguments.string("idempotencyKey"));
        return payments.pay(caller, reservationId, key, x402.map(X402Payment::signed).or(() -> fromArguments))
                .flatMap(outcome -> answer(caller, reservationId, outcome, x402));
    }

    private Mono<ToolResult> answer(Agent caller, String reservationId, PayOutcome outcome, Optional<X402Payment> x402) {
        return switch (outcome) {
            case PayOutcome.Accepted accepted -> Mono.just(ToolResult.success(
                    Outputs.payment(accepted.payment(), accepted.replayed()),
                    x402.<Map<String, Object>>map(payment -> Map.of(X402Payment.RESPONSE_META_KEY,
                            X402Messages.settlement(accepted.payment(), payment.network()))).orElse(Map.of())));
            case PayOutcome.Refused refused -> {
                ToolError error = new ToolError(refused.reason().name().toLowerCase(Locale.ROOT), refused.message(),
                        refused.field(), refused.nextStep());
                // A payment is asked for again when none came, or when the one that came cannot pay (x402: "payment
                // invalid" answers PaymentRequired with the reason), so an x402 client can sign a new one.
                boolean askAgain = refused.reason() == PayOutcome.Reason.SIGNATURE_REQUIRED || x402.isPresent()
                        && (refused.reason() == PayOutcome.Reason.INVALID_AUTHORIZATION
                                || refused.reason() == PayOutcome.Reason.INSUFFICIENT_USDC
                                || refused.reason() == PayOutcome.Reason.CHAIN_REFUSED);
                yield askAgain ? paymentRequired(caller, reservationId, error) : Mono.just(ToolResult.failure(error));
            }
        };
    }

    private Mono<ToolResult> paymentRequired(Agent caller, String reservationId, ToolError error) {
        return payments.x402Offer(caller, reservationId)
                .map(offer -> (ToolResult) new ToolResult.PaymentRequired(X402Messages.paymentRequired(
                        offer.requirements(), offer.chainId(), offer.reservationId(), offer.amountUsdc(),
                        error.message()), error))
                .defaultIfEmpty(ToolResult.failure(error));
    }

    private static Mono<ToolResult> invalid(String field, String message) {
        return Mono.just(ToolResult.failure(ToolError.invalidArgument(field, message)));
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
