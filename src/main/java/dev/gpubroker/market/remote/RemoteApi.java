package dev.gpubroker.market.remote;

import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Optional;
import java.util.concurrent.TimeoutException;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.client.WebClient;
import org.springframework.web.reactive.function.client.WebClientRequestException;
import org.springframework.web.reactive.function.client.WebClientResponseException;

import dev.gpubroker.market.ProviderFault;
import dev.gpubroker.market.ProviderUnavailableException;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * One provider's HTTP API, without blocking a thread: JSON in and out, every failure read into a
 * {@link ProviderFault} (the provider's own reading first, then: 401/403/402 the operator's account, 429 and 5xx and
 * no answer transient, other 4xx a refusal of this request), transient failures of safe calls retried with backoff
 * (honouring {@code Retry-After} up to a bound). A call that creates something is never retried here: the provider
 * finds out whether the first try landed (by the name it gave), so a job is never launched twice.
 */
public final class RemoteApi {

    private static final int MESSAGE_MAX = 300;
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final String provider;
    private final WebClient client;
    private final ApiKey key;
    private final Settings settings;
    private final ErrorReading reading;

    /**
     * {@code callTimeout}: one try; {@code retries}: further tries of a safe call after a transient fault;
     * {@code firstBackoff}: the wait before the first retry, doubling; {@code maxRetryAfter}: the longest
     * {@code Retry-After} honoured (longer: the call fails at once as transient, for the caller to come back later).
     */
    public record Settings(Duration callTimeout, int retries, Duration firstBackoff, Duration maxRetryAfter) {

        public static final Settings DEFAULT = new Settings(Duration.ofSeconds(10), 2, Duration.ofMillis(250),
                Duration.ofSeconds(5));

        /** The defaults with a provider's own timeout for one try. */
        public static Settings withCallTimeout(Duration callTimeout) {
            return new Settings(callTimeout, DEFAULT.retries(), DEFAULT.firstBackoff(), DEFAULT.maxRetryAfter());
        }
    }

    /** Where the key goes: a bearer token (RunPod, Vast.ai) or an {@code X-API-KEY} header (Shadeform). */
    public enum KeyHeader {
        BEARER, X_API_KEY
    }

    public RemoteApi(String provider, WebClient.Builder builder, String baseUrl, ApiKey key, KeyHeader keyHeader,
            Settings settings, ErrorReading reading) {
        this.provider = provider;
        this.key = key;
        this.settings = settings;
        this.reading = reading;
        this.client = builder.clone()
                .baseUrl(baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl)
                .defaultHeaders(headers -> {
                    switch (keyHeader) {
                        case BEARER -> headers.setBearerAuth(key.value());
                        case X_API_KEY -> headers.set("X-API-KEY", key.value());
                    }
                    headers.setAccept(java.util.List.of(MediaType.APPLICATION_JSON));
                })
                .codecs(codecs -> codecs.defaultCodecs().maxInMemorySize(8 * 1024 * 1024))
                .build();
    }

    /** GET, retried when transient; a 404 is empty. */
    public Mono<JsonNode> get(String path) {
        return safe(call(HttpMethod.GET, path, null));
    }

    /** A call that changes nothing twice (a search, an idempotent update), retried when transient; a 404 is empty. */
    public Mono<JsonNode> sendSafely(HttpMethod method, String path, Object body) {
        return safe(call(method, path, body));
    }

    /** A call that creates something: tried once; a 404 is empty. */
    public Mono<JsonNode> sendOnce(HttpMethod method, String path, Object body) {
        return call(method, path, body);
    }

    /** DELETE, retried when transient; a 404 (already gone) is done. Stops spending: never held back by the bound. */
    public Mono<Void> delete(String path) {
        return stopSpending(HttpMethod.DELETE, path, null);
    }

    /**
     * A call that stops something the operator pays for (delete, terminate), retried when transient; a 404 is done.
     * The broker's own bound on calls per key ({@link KeyRateLimits}) never holds it back: refusing it would keep a
     * machine running on the operator's account.
     */
    public Mono<Void> stopSpending(HttpMethod method, String path, Object body) {
        return safe(call(method, path, body, true)).then();
    }

    private Mono<JsonNode> call(HttpMethod method, String path, Object body) {
        return call(method, path, body, false);
    }

    private Mono<JsonNode> call(HttpMethod method, String path, Object body, boolean stopsSpending) {
        return Mono.defer(() -> {
            WebClient.RequestBodySpec request = client.method(method).uri(path)
                    .attribute(KeyRateLimits.STOPS_SPENDING, stopsSpending);
            WebClient.RequestHeadersSpec<?> ready = body == null ? request
                    : request.contentType(MediaType.APPLICATION_JSON).bodyValue(JSON.writeValueAsString(body));
            return ready.retrieve().bodyToMono(String.class)
                    .map(text -> text.isBlank() ? (JsonNode) JSON.missingNode() : JSON.readTree(text))
                    .timeout(settings.callTimeout())
                    .onErrorResume(WebClientResponseException.NotFound.class, notFound -> Mono.empty())
                    .onErrorMap(error -> !(error instanceof ProviderUnavailableException), this::toFault);
        });
    }

    private Mono<JsonNode> safe(Mono<JsonNode> call) {
        return call.retryWhen(Retry.from(signals -> signals.concatMap(signal -> {
            Throwable failure = signal.failure();
            if (!(failure instanceof ProviderUnavailableException unavailable)
                    || !(unavailable.providerFault() instanceof ProviderFault.Transient transientFault)
                    || signal.totalRetries() >= settings.retries()) {
                return Mono.error(failure);
            }
            Duration wait = transientFault.retryAfter()
                    .orElse(settings.firstBackoff().multipliedBy(1L << Math.min(signal.totalRetries(), 10)));
            if (wait.compareTo(settings.maxRetryAfter()) > 0) {
                return Mono.error(failure);
            }
            return Mono.delay(wait);
        })));
    }

    private ProviderUnavailableException toFault(Throwable error) {
        if (error instanceof WebClientResponseException answer) {
            int status = answer.getStatusCode().value();
            String message = messageOf(answer.getResponseBodyAsString());
            String said = provider + " answered HTTP " + status + (message.isEmpty() ? "" : ": " + message);
            ProviderFault fault = reading.read(status, message).orElseGet(() -> switch (status) {
                case 401, 403 -> new ProviderFault.QuotaOrAuth(said + " (the operator's API key or account is refused)");
                case 402 -> new ProviderFault.QuotaOrAuth(said + " (the operator's account has no funds or quota)");
                case 408, 425, 429, 500, 502, 503, 504 -> new ProviderFault.Transient(said,
                        retryAfter(answer.getHeaders()));
                default -> status >= 500 ? new ProviderFault.Transient(said, retryAfter(answer.getHeaders()))
                        : new ProviderFault.ProvisioningFailed(said);
            });
            return new ProviderUnavailableException(fault);
        }
        if (error instanceof TimeoutException) {
            return new ProviderUnavailableException(new ProviderFault.Transient(provider + " did not answer within "
                    + settings.callTimeout().toMillis() + " ms"));
        }
        if (error instanceof WebClientRequestException unreachable) {
            return new ProviderUnavailableException(new ProviderFault.Transient(provider + " could not be reached: "
                    + scrub(String.valueOf(unreachable.getMostSpecificCause().getMessage()))));
        }
        return new ProviderUnavailableException(new ProviderFault.Transient(provider + " answered something "
                + "unreadable: " + scrub(String.valueOf(error.getMessage()))));
    }

    /** The provider's error text: {@code error}, {@code message}, {@code msg} or {@code detail} of a JSON body, else the body. */
    private String messageOf(String body) {
        if (body == null || body.isBlank()) {
            return "";
        }
        String text = body;
        try {
            JsonNode json = JSON.readTree(body);
            for (String field : new String[] {"error", "message", "msg", "detail", "error_msg"}) {
                JsonNode value = json.path(field);
                if (value.isString() && !value.asString().isBlank()) {
                    text = value.asString();
                    break;
                }
                if (value.isObject() && value.path("message").isString()) {
                    text = value.path("message").asString();
                    break;
                }
            }
        } catch (RuntimeException notJson) {
            // Plain text: use it as it is.
        }
        text = scrub(text.strip().replaceAll("\\s+", " "));
        return text.length() <= MESSAGE_MAX ? text : text.substring(0, MESSAGE_MAX) + "…";
    }

    /** A provider that echoes the key in an error must not make the broker print it. */
    private String scrub(String text) {
        return text.replace(key.value(), "[api key]");
    }

    static Optional<Duration> retryAfter(HttpHeaders headers) {
        String value = headers.getFirst(HttpHeaders.RETRY_AFTER);
        if (value == null || value.isBlank()) {
            return Optional.empty();
        }
        try {
            return Optional.of(Duration.ofSeconds(Math.max(0, Long.parseLong(value.strip()))));
        } catch (NumberFormatException notSeconds) {
            try {
                Instant at = ZonedDateTime.parse(value.strip(), DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
                Duration wait = Duration.between(Instant.now(), at);
                return Optional.of(wait.isNegative() ? Duration.ZERO : wait);
            } catch (RuntimeException notDate) {
                return Optional.empty();
            }
        }
    }
}
