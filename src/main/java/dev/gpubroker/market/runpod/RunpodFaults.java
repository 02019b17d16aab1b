package dev.gpubroker.market.runpod;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeoutException;

import org.springframework.http.HttpHeaders;
import org.springframework.web.reactive.function.client.WebClientRequestException;
import org.springframework.web.reactive.function.client.WebClientResponseException;

import dev.gpubroker.market.ProviderFault;
import dev.gpubroker.market.ProviderUnavailableException;
import dev.gpubroker.market.remote.ApiKey;
import dev.gpubroker.market.remote.ErrorReading;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * RunPod's errors read into {@link ProviderFault}s, in one place. The JSON calls go through {@code RemoteApi}, which
 * reads the generic statuses; this class adds what RunPod's create-pod document says about its own: a {@code 400} at
 * create means "this GPU (and data center) could not be placed, or the body breaks a cross-field rule"; the document
 * tells clients to try their next candidate, which for the broker is another offer ({@link ProviderFault.NoCapacity}).
 * The log stream (server-sent events) does not go through {@code RemoteApi}, so its failures are read here the same way.
 */
final class RunpodFaults {

    private static final int MESSAGE_MAX = 300;
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private RunpodFaults() {
    }

    /** For {@code POST /v2/pods}: a 400 is a placement refusal (no capacity); the rest is read the generic way. */
    static final ErrorReading CREATES = (status, message) -> status == 400
            ? Optional.of(new ProviderFault.NoCapacity("runpod could not place the pod (HTTP 400"
                    + (message.isEmpty() ? "" : ": " + message) + "); another offer may have room"))
            : Optional.empty();

    /** A failed read of the log stream, as {@code RemoteApi} reads a failed JSON call. The key never appears. */
    static ProviderUnavailableException ofStream(Throwable error, ApiKey key, Duration callTimeout) {
        if (error instanceof ProviderUnavailableException already) {
            return already;
        }
        if (error instanceof WebClientResponseException answer) {
            int status = answer.getStatusCode().value();
            String message = scrub(detailOf(answer.getResponseBodyAsString()), key);
            String said = "runpod answered HTTP " + status + " to a log read" + (message.isEmpty() ? "" : ": " + message);
            ProviderFault fault = switch (status) {
                case 401, 403 -> new ProviderFault.QuotaOrAuth(said + " (the operator's API key or account is refused)");
                case 402 -> new ProviderFault.QuotaOrAuth(said + " (the operator's account has no funds)");
                default -> status == 408 || status == 425 || status == 429 || status >= 500
                        ? new ProviderFault.Transient(said, retryAfter(answer.getHeaders()))
                        : new ProviderFault.ProvisioningFailed(said);
            };
            return new ProviderUnavailableException(fault);
        }
        if (error instanceof TimeoutException) {
            return new ProviderUnavailableException(new ProviderFault.Transient("runpod's log stream did not answer within "
                    + callTimeout.toMillis() + " ms"));
        }
        if (error instanceof WebClientRequestException unreachable) {
            return new ProviderUnavailableException(new ProviderFault.Transient("runpod could not be reached: "
                    + scrub(String.valueOf(unreachable.getMostSpecificCause().getMessage()), key)));
        }
        return new ProviderUnavailableException(new ProviderFault.Transient("runpod's log stream was unreadable: "
                + scrub(String.valueOf(error.getMessage()), key)));
    }

    /** RunPod's {@code ErrorResponse} ({@code application/problem+json}): {@code detail}, else the body as it is. */
    private static String detailOf(String body) {
        if (body == null || body.isBlank()) {
            return "";
        }
        String text = body;
        try {
            JsonNode detail = JSON.readTree(body).path("detail");
            if (detail.isString() && !detail.asString().isBlank()) {
                text = detail.asString();
            }
        } catch (RuntimeException notJson) {
            // Plain text: use it as it is.
        }
        text = text.strip().replaceAll("\\s+", " ");
        return text.length() <= MESSAGE_MAX ? text : text.substring(0, MESSAGE_MAX) + "…";
    }

    /** RunPod's {@code Retry-After} is whole seconds (its OpenAPI document: integer). */
    static Optional<Duration> retryAfter(HttpHeaders headers) {
        String value = headers.getFirst(HttpHeaders.RETRY_AFTER);
        try {
            return value == null ? Optional.empty() : Optional.of(Duration.ofSeconds(Math.max(0, Long.parseLong(value.strip()))));
        } catch (NumberFormatException notSeconds) {
            return Optional.empty();
        }
    }

    private static String scrub(String text, ApiKey key) {
        return text.replace(key.value(), "[api key]");
    }
}
