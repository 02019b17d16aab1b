package dev.gpubroker.policy;

/**
 * One rule a purchase breaks: a stable code naming the limit, and a sentence an agent (or a person) can act on.
 */
public record PolicyViolation(Code code, String message) {

    public enum Code {
        KILL_SWITCH, AGENT_FROZEN, PROVIDER_NOT_ALLOWED, GPU_NOT_ALLOWED, OVER_MAX_PRICE_PER_GPU_HOUR,
        OVER_MAX_PER_RESERVATION, OVER_DAILY_LIMIT, OVER_TOTAL_LIMIT
    }

    public String wireCode() {
        return code.name().toLowerCase(java.util.Locale.ROOT);
    }
}
