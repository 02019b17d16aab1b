package dev.gpubroker.payments.x402;

import java.math.BigInteger;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

import dev.gpubroker.payments.SignedAuthorization;
import dev.gpubroker.payments.chain.ReceiveAuthorization;

/**
 * An x402 {@code exact} EVM payment as a client sends it in {@code _meta["x402/payment"]}: v2 ({@code {x402Version: 2,
 * accepted, payload: {authorization, signature}, extensions?}}) or v1 ({@code {x402Version: 1, scheme, network,
 * payload}}, the X-PAYMENT header's JSON). Only its shape is checked here; whether it pays a reservation is the payment
 * service's to decide, against the chain.
 *
 * @param paymentIdentifier the {@code payment-identifier} extension's id, when sent: the idempotency key
 */
public record X402Payment(int version, String scheme, String network, SignedAuthorization signed,
        Optional<String> paymentIdentifier) {

    public static final String META_KEY = "x402/payment";
    public static final String RESPONSE_META_KEY = "x402/payment-response";
    public static final String PAYMENT_IDENTIFIER = "payment-identifier";

    private static final String ROOT = "_meta." + META_KEY;
    private static final Pattern ADDRESS = Pattern.compile("0x[0-9a-fA-F]{40}");
    private static final Pattern UINT = Pattern.compile("[0-9]{1,78}");
    private static final Pattern BYTES32 = Pattern.compile("0x[0-9a-fA-F]{64}");
    private static final Pattern SIGNATURE = Pattern.compile("0x[0-9a-fA-F]{130}");
    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z0-9_-]{16,128}");

    /** Reads the payload; anything missing, of the wrong type or out of shape is an {@link X402PayloadException}. */
    public static X402Payment parse(Object meta) {
        Map<String, Object> payment = object(meta, ROOT);
        Object version = payment.get("x402Version");
        if (!(version instanceof Number number) || (number.intValue() != 1 && number.intValue() != 2)
                || number.doubleValue() != number.intValue()) {
            throw new X402PayloadException(ROOT + ".x402Version", "x402Version must be 1 or 2");
        }
        int v = number.intValue();
        String scheme;
        String network;
        if (v == 2) {
            Map<String, Object> accepted = object(payment.get("accepted"), ROOT + ".accepted");
            scheme = string(accepted, "scheme", ROOT + ".accepted.scheme");
            network = string(accepted, "network", ROOT + ".accepted.network");
        } else {
            scheme = string(payment, "scheme", ROOT + ".scheme");
            network = string(payment, "network", ROOT + ".network");
        }
        if (!"exact".equals(scheme)) {
            throw new X402PayloadException(v == 2 ? ROOT + ".accepted.scheme" : ROOT + ".scheme",
                    "only the exact scheme is accepted, not " + truncated(scheme));
        }
        Map<String, Object> payload = object(payment.get("payload"), ROOT + ".payload");
        Map<String, Object> authorization = object(payload.get("authorization"), ROOT + ".payload.authorization");
        String at = ROOT + ".payload.authorization.";
        ReceiveAuthorization fields;
        try {
            fields = new ReceiveAuthorization(
                    matching(authorization, "from", ADDRESS, at), matching(authorization, "to", ADDRESS, at),
                    new BigInteger(matching(authorization, "value", UINT, at)),
                    new BigInteger(matching(authorization, "validAfter", UINT, at)),
                    new BigInteger(matching(authorization, "validBefore", UINT, at)),
                    matching(authorization, "nonce", BYTES32, at));
        } catch (X402PayloadException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new X402PayloadException(at + "value", e.getMessage());
        }
        String signature = matching(payload, "signature", SIGNATURE, ROOT + ".payload.");
        return new X402Payment(v, scheme, network, new SignedAuthorization(fields, signature),
                v == 2 ? paymentIdentifier(payment.get("extensions")) : Optional.empty());
    }

    private static Optional<String> paymentIdentifier(Object extensions) {
        if (!(extensions instanceof Map<?, ?> all) || !(all.get(PAYMENT_IDENTIFIER) instanceof Map<?, ?> extension)
                || !(extension.get("info") instanceof Map<?, ?> info) || info.get("id") == null) {
            return Optional.empty();
        }
        String field = ROOT + ".extensions." + PAYMENT_IDENTIFIER + ".info.id";
        if (!(info.get("id") instanceof String id) || !IDENTIFIER.matcher(id).matches()) {
            throw new X402PayloadException(field, "a payment identifier is 16 to 128 letters, digits, - or _");
        }
        return Optional.of(id);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(Object value, String field) {
        if (!(value instanceof Map<?, ?> map)) {
            throw new X402PayloadException(field, field + " must be an object");
        }
        return (Map<String, Object>) map;
    }

    private static String string(Map<String, Object> object, String name, String field) {
        if (!(object.get(name) instanceof String value) || value.isEmpty() || value.length() > 128) {
            throw new X402PayloadException(field, field + " must be a string of 1 to 128 characters");
        }
        return value;
    }

    private static String matching(Map<String, Object> object, String name, Pattern pattern, String prefix) {
        Object value = object.get(name);
        if (!(value instanceof String text) || !pattern.matcher(text).matches()) {
            throw new X402PayloadException(prefix + name, prefix + name + " must match " + pattern.pattern());
        }
        return text;
    }

    private static String truncated(String value) {
        return value.length() <= 32 ? value : value.substring(0, 32) + "…";
    }
}
