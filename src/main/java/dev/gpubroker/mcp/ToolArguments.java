package dev.gpubroker.mcp;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Typed access to a tool call's arguments. The schema check has run before, so a wrong type here is a contract bug
 * (the schema and the handler disagree) and fails loudly.
 */
public final class ToolArguments {

    private final Map<String, Object> values;
    private final Map<String, Object> meta;

    public ToolArguments(Map<String, Object> values) {
        this(values, Map.of());
    }

    /** {@code meta}: the call's {@code _meta} (e.g. an x402 payment under {@code x402/payment}); never validated. */
    public ToolArguments(Map<String, Object> values, Map<String, Object> meta) {
        this.values = values == null ? Map.of() : values;
        this.meta = meta == null ? Map.of() : meta;
    }

    /** One entry of the call's {@code _meta}, as the client sent it: untrusted, unchecked input. */
    public Optional<Object> meta(String key) {
        return Optional.ofNullable(meta.get(key));
    }

    public String string(String name) {
        return optionalString(name).orElseThrow(() -> new IllegalStateException("required argument " + name + " missing"));
    }

    public Optional<String> optionalString(String name) {
        return Optional.ofNullable(values.get(name)).map(value -> as(name, value, String.class));
    }

    public int integer(String name) {
        return optionalInteger(name).orElseThrow(() -> new IllegalStateException("required argument " + name + " missing"));
    }

    public Optional<Integer> optionalInteger(String name) {
        return Optional.ofNullable(values.get(name)).map(value -> Math.toIntExact(as(name, value, Number.class).longValue()));
    }

    public Optional<Double> optionalNumber(String name) {
        return Optional.ofNullable(values.get(name)).map(value -> as(name, value, Number.class).doubleValue());
    }

    public Optional<List<String>> optionalStrings(String name) {
        return Optional.ofNullable(values.get(name)).map(value -> as(name, value, Collection.class).stream()
                .map(item -> as(name, item, String.class))
                .toList());
    }

    @SuppressWarnings("unchecked")
    public Optional<Map<String, Object>> optionalObject(String name) {
        return Optional.ofNullable(values.get(name)).map(value -> (Map<String, Object>) as(name, value, Map.class));
    }

    private static <T> T as(String name, Object value, Class<T> type) {
        if (!type.isInstance(value)) {
            throw new IllegalStateException("argument " + name + " is " + value.getClass().getSimpleName()
                    + ", the handler expects " + type.getSimpleName() + ": schema and handler disagree");
        }
        return type.cast(value);
    }
}
