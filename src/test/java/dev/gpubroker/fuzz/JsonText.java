package dev.gpubroker.fuzz;

import java.util.List;
import java.util.Map;

/**
 * Generated values written as JSON text by hand, so that a fuzz case can hold what no Java number can: 1e400, a
 * 30-digit integer, -0. Values are maps, lists, strings, numbers, booleans, {@link #NULL} and {@link Raw} literals.
 */
final class JsonText {

    /** JSON null (jqwik values are never Java null). */
    static final Object NULL = new Object() {
        @Override
        public String toString() {
            return "null";
        }
    };

    /** A JSON literal written as given. */
    record Raw(String json) {
        @Override
        public String toString() {
            return json;
        }
    }

    private JsonText() {
    }

    static String of(Object value) {
        StringBuilder out = new StringBuilder();
        write(value, out);
        return out.toString();
    }

    private static void write(Object value, StringBuilder out) {
        switch (value) {
            case Map<?, ?> map -> {
                out.append('{');
                boolean first = true;
                for (var entry : map.entrySet()) {
                    if (!first) {
                        out.append(',');
                    }
                    first = false;
                    string(String.valueOf(entry.getKey()), out);
                    out.append(':');
                    write(entry.getValue(), out);
                }
                out.append('}');
            }
            case List<?> list -> {
                out.append('[');
                for (int i = 0; i < list.size(); i++) {
                    if (i > 0) {
                        out.append(',');
                    }
                    write(list.get(i), out);
                }
                out.append(']');
            }
            case String text -> string(text, out);
            case Double number when !Double.isFinite(number) -> out.append("1e400");
            case Float number when !Float.isFinite(number) -> out.append("-1e400");
            case Number number -> out.append(number);
            case Boolean bool -> out.append(bool);
            case Raw raw -> out.append(raw.json());
            default -> out.append("null");
        }
    }

    private static void string(String text, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20 || Character.isSurrogate(c)) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
