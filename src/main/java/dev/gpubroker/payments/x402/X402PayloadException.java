package dev.gpubroker.payments.x402;

/** An x402 payment payload that cannot be read: {@code field} is where, as a path under {@code _meta}. */
public class X402PayloadException extends IllegalArgumentException {

    private final String field;

    public X402PayloadException(String field, String message) {
        super(message);
        this.field = field;
    }

    public String field() {
        return field;
    }
}
