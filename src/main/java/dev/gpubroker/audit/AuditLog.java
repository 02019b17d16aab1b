package dev.gpubroker.audit;

import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;

import dev.gpubroker.store.AuditRepository;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import tools.jackson.databind.json.JsonMapper;

/**
 * The append-only audit log of every tool call and every admin action. Arguments are stored with secrets redacted:
 * signatures, keys, tokens, passwords and the values of a job's environment never reach it. A failure to write the audit line is logged, and does not
 * undo what was done (the action already happened; losing the answer would be worse).
 */
@Service
public class AuditLog {

    public static final String REDACTED = "<redacted>";
    private static final Logger log = LoggerFactory.getLogger(AuditLog.class);
    private static final Set<String> SECRET_WORDS = Set.of("signature", "apikey", "token", "password", "secret",
            "privatekey", "authorization");
    private static final Set<String> ENVIRONMENT_WORDS = Set.of("env", "environment");
    private static final int ARGUMENTS_LENGTH_MAX = 4000;

    private final AuditRepository entries;
    private final JsonMapper json;
    private final Clock clock;

    public AuditLog(AuditRepository entries, JsonMapper json, Clock clock) {
        this.entries = entries;
        this.json = json;
        this.clock = clock;
    }

    public Mono<Void> record(String actorType, String actorId, String action, Map<String, Object> arguments,
            String outcome, String detail) {
        return Mono.defer(() -> {
            String redacted = arguments == null ? null : json.writeValueAsString(redact(arguments));
            if (redacted != null && redacted.length() > ARGUMENTS_LENGTH_MAX) {
                redacted = redacted.substring(0, ARGUMENTS_LENGTH_MAX) + "…";
            }
            return entries.insert(clock.instant(), actorType, actorId, action, redacted, outcome,
                    detail == null || detail.length() <= 400 ? detail : detail.substring(0, 400));
        }).onErrorResume(error -> {
            log.error("Could not write the audit line for {} by {}: {}", action, actorId, error.toString());
            return Mono.empty();
        });
    }

    public Flux<AuditEntry> page(String actorId, int limit, long beforeId) {
        return entries.page(actorId, limit, beforeId);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> redact(Map<String, Object> arguments) {
        Map<String, Object> copy = new LinkedHashMap<>();
        for (var entry : arguments.entrySet()) {
            String name = entry.getKey().toLowerCase(Locale.ROOT);
            boolean secret = !name.equals("idempotencykey") && SECRET_WORDS.stream().anyMatch(name::contains);
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
