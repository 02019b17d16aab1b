package dev.gpubroker.platform.faults;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.net.http.HttpTimeoutException;
import java.util.Locale;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.web3j.protocol.exceptions.ClientConnectionException;

/**
 * The one place that tells what a failed call to a provider or to the chain's node amounts to (as r2dbc-postgresql's
 * {@code ExceptionFactory} does for the database): the only reader of node error messages and of HTTP statuses in
 * error texts. Everything else asks it and decides on the {@link Fault} and its verdict.
 */
public final class Faults {

    /** Causes followed at most: a chain of wrappers is short, a cycle must not loop. */
    private static final int CAUSE_DEPTH_MAX = 16;
    /** How web3j's HTTP transport reports a non-2xx answer (HttpService). */
    private static final Pattern WEB3J_HTTP_STATUS = Pattern.compile("Invalid response received: (\\d{3})");

    private Faults() {
    }

    /** The fault of {@code error}: the first of its causes (itself first) that tells one, else {@link Fault#UNEXPECTED}. */
    public static Fault classify(Throwable error) {
        Throwable cause = error;
        for (int depth = 0; cause != null && depth < CAUSE_DEPTH_MAX; depth++, cause = cause.getCause()) {
            Fault fault = ownFault(cause);
            if (fault != null) {
                return fault;
            }
        }
        return Fault.UNEXPECTED;
    }

    /**
     * What a node's JSON-RPC error answer means (geth, anvil, reth and most providers word them alike). An answer is
     * never a timeout or unreachable; one this does not recognise is a refusal.
     */
    public static Fault ofNodeMessage(String message) {
        String text = String.valueOf(message).toLowerCase(Locale.ROOT);
        if (text.contains("already known") || text.contains("known transaction")) {
            return Fault.ALREADY_KNOWN;
        }
        if (text.contains("nonce too low") || text.contains("replacement transaction underpriced")
                || text.contains("nonce has already been used")) {
            return Fault.NONCE_USED;
        }
        if (text.contains("insufficient funds")) {
            return Fault.INSUFFICIENT_FUNDS;
        }
        if (text.contains("execution reverted")) {
            return Fault.REVERTED;
        }
        if (text.contains("rate limit") || text.contains("too many requests") || text.contains("limit exceeded")) {
            return Fault.UNAVAILABLE;
        }
        return Fault.REFUSED;
    }

    /** What a non-2xx HTTP answer means: asked too often, or the server's fault, is worth asking again. */
    public static Fault ofHttpStatus(int status) {
        if (status == 408) {
            return Fault.TIMEOUT;
        }
        if (status == 429 || status >= 500) {
            return Fault.UNAVAILABLE;
        }
        return Fault.REFUSED;
    }

    private static Fault ownFault(Throwable cause) {
        if (cause instanceof ClassifiedFault classified) {
            return classified.fault();
        }
        // Before IOException: both of these are I/O exceptions that are timeouts.
        if (cause instanceof TimeoutException || cause instanceof SocketTimeoutException
                || cause instanceof HttpTimeoutException) {
            return Fault.TIMEOUT;
        }
        if (cause instanceof IOException) {
            return Fault.UNREACHABLE;
        }
        if (cause instanceof ClientConnectionException) {
            Matcher status = WEB3J_HTTP_STATUS.matcher(String.valueOf(cause.getMessage()));
            return status.find() ? ofHttpStatus(Integer.parseInt(status.group(1))) : Fault.UNREACHABLE;
        }
        return null;
    }
}
