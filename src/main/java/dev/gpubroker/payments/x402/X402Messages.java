package dev.gpubroker.payments.x402;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.gpubroker.payments.Payment;
import dev.gpubroker.payments.PaymentRequirements;

/**
 * The x402 objects the server sends (x402 v2 and its MCP transport): PaymentRequired for a reservation, and the
 * SettlementResponse that goes with a payment in {@code _meta["x402/payment-response"]}.
 */
public final class X402Messages {

    private static final int PAYMENT_IDENTIFIER_MIN = 16;
    private static final int PAYMENT_IDENTIFIER_MAX = 128;

    private X402Messages() {
    }

    /**
     * {@code requirements} are a stock {@code exact} offer (payTo the escrow, extra only the token's EIP-712 domain): a
     * v2 entry, and for a chain that x402 v1 clients know by name, a v1 entry beside it, so either client finds its own
     * (each skips networks it does not know). The payment-identifier extension is offered: its id becomes the
     * payment's idempotency key.
     */
    public static Map<String, Object> paymentRequired(PaymentRequirements requirements, long chainId,
            String reservationId, String amountUsdc, String error) {
        String resourceUrl = "mcp://tool/pay?reservationId=" + reservationId;
        String description = "Pay reservation " + reservationId + " into the GPU Broker escrow: " + amountUsdc
                + " USDC; what the job does not use comes back to the paying wallet";
        Map<String, Object> resource = new LinkedHashMap<>();
        resource.put("url", resourceUrl);
        resource.put("description", description);
        resource.put("mimeType", "application/json");

        Map<String, Object> v2 = new LinkedHashMap<>();
        v2.put("scheme", requirements.scheme());
        v2.put("network", requirements.network());
        v2.put("amount", requirements.amount());
        v2.put("asset", requirements.asset());
        v2.put("payTo", requirements.payTo());
        v2.put("maxTimeoutSeconds", requirements.maxTimeoutSeconds());
        v2.put("extra", requirements.extra());
        List<Map<String, Object>> accepts = new ArrayList<>(List.of(v2));
        X402Networks.v1Name(chainId).ifPresent(v1Network -> {
            Map<String, Object> v1 = new LinkedHashMap<>();
            v1.put("scheme", requirements.scheme());
            v1.put("network", v1Network);
            v1.put("maxAmountRequired", requirements.amount());
            v1.put("resource", resourceUrl);
            v1.put("description", description);
            v1.put("mimeType", "application/json");
            v1.put("payTo", requirements.payTo());
            v1.put("maxTimeoutSeconds", requirements.maxTimeoutSeconds());
            v1.put("asset", requirements.asset());
            v1.put("extra", requirements.extra());
            accepts.add(v1);
        });

        Map<String, Object> identifierId = new LinkedHashMap<>();
        identifierId.put("type", "string");
        identifierId.put("minLength", PAYMENT_IDENTIFIER_MIN);
        identifierId.put("maxLength", PAYMENT_IDENTIFIER_MAX);
        identifierId.put("pattern", "^[A-Za-z0-9_-]+$");
        Map<String, Object> identifierSchema = new LinkedHashMap<>();
        identifierSchema.put("$schema", "https://json-schema.org/draft/2020-12/schema");
        identifierSchema.put("type", "object");
        identifierSchema.put("properties", Map.of("id", identifierId));
        Map<String, Object> paymentIdentifier = new LinkedHashMap<>();
        paymentIdentifier.put("info", Map.of("required", false));
        paymentIdentifier.put("schema", identifierSchema);

        Map<String, Object> required = new LinkedHashMap<>();
        required.put("x402Version", 2);
        required.put("error", error);
        required.put("resource", resource);
        required.put("accepts", accepts);
        required.put("extensions", Map.of(X402Payment.PAYMENT_IDENTIFIER, paymentIdentifier));
        return required;
    }

    /**
     * The SettlementResponse for a payment: success once its deposit is confirmed in the escrow; a deposit still on
     * its way is not yet a settlement ({@code errorReason} says so, with its transaction to follow).
     */
    public static Map<String, Object> settlement(Payment payment, String network) {
        Map<String, Object> response = new LinkedHashMap<>();
        boolean confirmed = payment.status() == Payment.Status.CONFIRMED;
        response.put("success", confirmed);
        if (!confirmed) {
            response.put("errorReason", payment.status() == Payment.Status.FAILED ? "settlement_failed"
                    : "settlement_pending");
        }
        response.put("transaction", payment.txHash() == null ? "" : payment.txHash());
        response.put("network", network);
        response.put("payer", payment.payer());
        return response;
    }
}
