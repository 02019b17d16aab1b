package dev.gpubroker.market.runpod;

import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

import org.springframework.core.ParameterizedTypeReference;
import org.springframework.http.MediaType;
import org.springframework.http.codec.ServerSentEvent;
import org.springframework.web.reactive.function.client.WebClient;
import org.springframework.web.reactive.function.client.WebClientResponseException;

import dev.gpubroker.market.remote.ApiKey;
import reactor.core.publisher.Mono;
import tools.jackson.databind.json.JsonMapper;

/**
 * A bounded read of a pod's log stream ({@code GET /v2/pods/{id}/logs}, server-sent events whose {@code data} is
 * {@code {ts, source, line}} and whose {@code id} resumes the stream as {@code Last-Event-ID}). The stream stays open
 * while the pod runs, so a read takes what arrives within a short window, at most a number of events, and hangs up.
 * {@code RemoteApi} reads JSON only; this reader uses the shared client builder with the same bearer header, and reads
 * failures the same way ({@link RunpodFaults#ofStream}).
 */
final class RunpodLogStream {

    /** RunPod's most lines of backfill ({@code tail}, maximum 5000). */
    static final int TAIL_MAX = 5000;

    private static final ParameterizedTypeReference<ServerSentEvent<String>> EVENTS = new ParameterizedTypeReference<>() {
    };
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final WebClient client;
    private final ApiKey key;
    private final Duration callTimeout;

    /** One log line: the event id (the resume cursor), RunPod's timestamp if readable, the line. */
    record LogEvent(String id, Optional<Instant> at, String line) {
    }

    /** Where a read starts: after an event id, at a time, or the last {@code tail} lines. */
    sealed interface From {
        record AfterEvent(String lastEventId) implements From {
        }

        record Since(Instant at) implements From {
        }

        record Tail(int lines) implements From {
        }
    }

    RunpodLogStream(WebClient.Builder builder, String baseUrl, ApiKey key, Duration callTimeout) {
        this.key = key;
        this.callTimeout = callTimeout;
        this.client = builder.clone()
                .baseUrl(baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl)
                .defaultHeaders(headers -> headers.setBearerAuth(key.value()))
                .build();
    }

    /**
     * The container's lines from {@code from}: at most {@code maxEvents}, what arrives within {@code window}. A pod
     * RunPod no longer knows has none.
     */
    Mono<List<LogEvent>> read(String podId, From from, int maxEvents, Duration window) {
        return read(podId, from, maxEvents, window, line -> false);
    }

    /** As {@link #read(String, From, int, Duration)}, hanging up after the first line that {@code last} accepts. */
    Mono<List<LogEvent>> read(String podId, From from, int maxEvents, Duration window, Predicate<String> last) {
        return Mono.defer(() -> client.get()
                .uri(uri -> {
                    uri.path("/pods/{id}/logs").queryParam("source", "container");
                    switch (from) {
                        case From.AfterEvent ignored -> { }
                        case From.Since since -> uri.queryParam("since", since.at().toString());
                        case From.Tail tail -> uri.queryParam("tail", Math.min(Math.max(tail.lines(), 0), TAIL_MAX));
                    }
                    return uri.build(podId);
                })
                .accept(MediaType.TEXT_EVENT_STREAM)
                .headers(headers -> {
                    if (from instanceof From.AfterEvent after) {
                        headers.set("Last-Event-ID", after.lastEventId());
                    }
                })
                .retrieve()
                .bodyToFlux(EVENTS)
                .filter(event -> event.data() != null)
                .take(Math.max(maxEvents, 1))
                .take(window)
                .map(RunpodLogStream::toLogEvent)
                .filter(event -> event.line() != null)
                .takeUntil(event -> last.test(event.line()))
                .collectList()
                .timeout(callTimeout.plus(window)))
                .onErrorResume(WebClientResponseException.NotFound.class, gone -> Mono.just(List.of()))
                .onErrorMap(error -> RunpodFaults.ofStream(error, key, callTimeout));
    }

    private static LogEvent toLogEvent(ServerSentEvent<String> event) {
        RunpodWire.LogData data = JSON.readValue(event.data(), RunpodWire.LogData.class);
        Optional<Instant> at = Optional.empty();
        if (data.ts() != null) {
            try {
                at = Optional.of(Instant.parse(data.ts()));
            } catch (DateTimeParseException unreadable) {
                // A line without a readable time is still a line.
            }
        }
        // The event id is the documented resume cursor; RunPod makes it from ts, so ts stands in if an id is missing.
        String id = event.id() != null ? event.id() : data.ts();
        return new LogEvent(id, at, data.line());
    }
}
