package dev.gpubroker.mcp.tools;

import java.util.LinkedHashMap;
import java.util.Map;

import dev.gpubroker.payments.Payment;
import dev.gpubroker.payments.PaymentRequirements;

/** Output shapes shared by several tools, so that one thing always looks the same to an agent. */
final class Outputs {

    private Outputs() {
    }

    static Map<String, Object> paymentRequirements(PaymentRequirements requirements) {
        Map<String, Object> output = new LinkedHashMap<>();
        output.put("scheme", requirements.scheme());
        output.put("network", requirements.network());
        output.put("amount", requirements.amount());
        output.put("asset", requirements.asset());
        output.put("payTo", requirements.payTo());
        output.put("maxTimeoutSeconds", requirements.maxTimeoutSeconds());
        output.put("extra", requirements.extra());
        return output;
    }

    static Map<String, Object> payment(Payment payment, boolean replayed) {
        Map<String, Object> output = new LinkedHashMap<>();
        output.put("paymentId", payment.paymentId());
        output.put("reservationId", payment.reservationId());
        output.put("status", payment.status().wireName());
        output.put("txHash", payment.txHash());
        output.put("amount", payment.amount().toDecimalString());
        output.put("payer", payment.payer());
        output.put("method", payment.method().name().toLowerCase(java.util.Locale.ROOT));
        output.put("replayed", replayed);
        if (payment.failureReason() != null) {
            output.put("failureReason", payment.failureReason());
        }
        output.put("nextStep", switch (payment.status()) {
            case CONFIRMED -> "the reservation is paid: run a job on it";
            case FAILED -> "nothing moved; fix the cause and call pay again with a new idempotencyKey";
            case PENDING, SUBMITTED -> "the deposit is on its way; call pay again with the same idempotencyKey in a few "
                    + "seconds to see it confirmed";
        });
        return output;
    }
}
