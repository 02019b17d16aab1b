package dev.gpubroker.audit;

import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;

import dev.gpubroker.memo.BoundedMemo;
import dev.gpubroker.memo.PlainArguments;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import tools.jackson.databind.json.JsonMapper;

/**
 * The append-only audit log of every tool call and every admin action. Arguments are stored with secrets redacted:
 * signatures, keys, tokens, passwords and the values of a job's environment never reach it. A failure to write the audit line is logged, and does not
 * undo what was done (the action already happened; losing the answer would be worse).
 *
 * <p>Two ways to write a line. {@link #record} writes it before the answer leaves: for anything that changed something
 * (a reservation, a payment, a job, an admin action), whose line must survive any crash after the caller was told.
 * {@link #recordRead} queues it for the next group commit ({@link AuditWriter}): for calls that changed nothing, where
 * a commit per call cost more than the call itself; a crash loses only the reads of the last few milliseconds.
 */
@Service
public class AuditLog {

    public static final String REDACTED = "<redacted>";
    private static final Logger log = LoggerFactory.getLogger(AuditLog.class);
    private static final List<String> SECRET_WORDS = List.of("signature", "apikey", "token", "password", "secret",
            "privatekey", "authorization");
    private static final Set<String> ENVIRONMENT_WORDS = Set.of("env", "environment");
    private static final int ARGUMENTS_LENGTH_MAX = 4000;
    private static final int WRITTEN_ARGUMENTS_MAX = 4_096;

    private final AuditRepository entries;
    private final AuditWriter writer;
    private final JsonMapper json;
    private final Clock clock;
    /**
     * The JSON lately written for small plain argument objects without secrets ({@link PlainArguments}), by a copy of
     * the arguments: agents poll with the same arguments, and writing them as JSON again was about 3 µs of every read
     * (HotPathBenchmark's recording). An argument named like a secret keeps the object out, so no secret is kept here.
     */
    private final BoundedMemo<Map<String, Object>, String> writtenArguments = new BoundedMemo<>(WRITTEN_ARGUMENTS_MAX);

    AuditLog(AuditRepository entries, AuditWriter writer, JsonMapper json, Clock clock) {
        this.entries = entries;
        this.writer = writer;
        this.json = json;
        this.clock = clock;
    }

    /** Writes the line of something that changed state; completes once it is committed. */
    public Mono<Void> record(String actorType, String actorId, String action, Map<String, Object> arguments,
            String outcome, String detail) {
        return Mono.defer(() -> write(line(actorType, actorId, action, arguments, outcome, detail)))
                .onErrorResume(error -> failed(action, actorId, error));
    }

    /**
     * The line of a call that changed nothing, queued for the next group commit; completes at once. Written at once
     * instead when the queue is full or the writer stopped.
     */
    public Mono<Void> recordRead(String actorType, String actorId, String action, Map<String, Object> arguments,
            String outcome, String detail) {
        return Mono.defer(() -> {
            AuditRepository.Line line = line(actorType, actorId, action, arguments, outcome, detail);
            return writer.offer(line) ? Mono.<Void>empty() : write(line);
        }).onErrorResume(error -> failed(action, actorId, error));
    }

    private Mono<Void> write(AuditRepository.Line line) {
        return entries.insert(line.at(), line.actorType(), line.actorId(), line.action(), line.arguments(),
                line.outcome(), line.detail());
    }

    private static Mono<Void> failed(String action, String actorId, Throwable error) {
        log.error("Could not write the audit line for {} by {}: {}", action, actorId, error.toString());
        return Mono.empty();
    }

    AuditRepository.Line line(String actorType, String actorId, String action, Map<String, Object> arguments,
            String outcome, String detail) {
        String redacted = arguments == null ? null : argumentsJson(arguments);
        if (redacted != null && redacted.length() > ARGUMENTS_LENGTH_MAX) {
            redacted = redacted.substring(0, ARGUMENTS_LENGTH_MAX) + "…";
        }
        return new AuditRepository.Line(clock.instant(), actorType, actorId, action, redacted, outcome,
                detail == null || detail.length() <= 400 ? detail : detail.substring(0, 400));
    }

    private String argumentsJson(Map<String, Object> arguments) {
        boolean kept = PlainArguments.isPlain(arguments) && !anyNamesASecret(arguments);
        String written = kept ? writtenArguments.get(arguments) : null;
        if (written == null) {
            written = json.writeValueAsString(redact(arguments));
            if (kept) {
                writtenArguments.put(Map.copyOf(arguments), written);
            }
        }
        return written;
    }

    private static boolean anyNamesASecret(Map<String, Object> arguments) {
        for (String name : arguments.keySet()) {
            if (namesASecret(name.toLowerCase(Locale.ROOT))) {
                return true;
            }
        }
        return false;
    }

    public Flux<AuditEntry> page(String actorId, int limit, long beforeId) {
        return entries.page(actorId, limit, beforeId);
    }

    /** A loop, not a stream: it runs for every argument of every call, reads included. */
    private static boolean namesASecret(String lowerCaseName) {
        for (String word : SECRET_WORDS) {
            if (lowerCaseName.contains(word)) {
                return true;
            }
        }
        return false;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> redact(Map<String, Object> arguments) {
        Map<String, Object> copy = new LinkedHashMap<>();
        for (var entry : arguments.entrySet()) {
            String name = entry.getKey().toLowerCase(Locale.ROOT);
            boolean secret = !name.equals("idempotencykey") && namesASecret(name);
            Object value = entry.getValue();
            if (secret) {
                copy.put(entry.getKey(), REDACTED);
            } else if (ENVIRONMENT_WORDS.contains(name) && value instanceof Map<?, ?> environment) {
                // A job's environment carries the agent's own credentials (OPENAI_API_KEY, HF_TOKEN, ...) under names
                // nobody can list in advance: the names are kept, every value is not.
                Map<String, Object> names = new LinkedHashMap<>();
                environment.keySet().forEach(variable -> names.put(String.valueOf(variable), REDACTED));
                copy.put(entry.getKey(), names);
            } else if (value instanceof Map<?, ?> nested) {
                copy.put(entry.getKey(), redact((Map<String, Object>) nested));
            } else {
                copy.put(entry.getKey(), value);
            }
        }
        return copy;
    }
}
