package dev.gpubroker.memo;

import java.util.Map;

/**
 * Tool arguments fit to be a memo's key: at most {@value #ENTRIES_MAX} of them, each a string of at most
 * {@value #TEXT_MAX} characters, a boolean, an int or a long, nothing nested and nothing null. Equal maps of such values
 * are the same JSON, and a copy of one ({@code Map.copyOf}) is small and cannot change.
 */
public final class PlainArguments {

    static final int ENTRIES_MAX = 8;
    static final int TEXT_MAX = 128;

    private PlainArguments() {
    }

    public static boolean isPlain(Map<String, Object> arguments) {
        if (arguments.size() > ENTRIES_MAX) {
            return false;
        }
        for (var entry : arguments.entrySet()) {
            Object value = entry.getValue();
            boolean plain = value instanceof String text ? text.length() <= TEXT_MAX
                    : value instanceof Boolean || value instanceof Integer || value instanceof Long;
            if (!plain || entry.getKey() == null || entry.getKey().length() > TEXT_MAX) {
                return false;
            }
        }
        return true;
    }
}
