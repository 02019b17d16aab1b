package dev.gpubroker.fuzz;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Tuple;

import tools.jackson.databind.JsonNode;

/**
 * Values drawn from a JSON Schema (the tools' inputSchemas): mostly valid ones, then each broken in one way a careless or
 * hostile client would break it: a field of the wrong type, too large, negative, not a finite number, a huge or
 * strange string, nested junk, null, an array where an object belongs, a required field missing, an unknown one added.
 */
final class SchemaArbitraries {

    private static final Object ABSENT = new Object();
    private static final Pattern HEX = Pattern.compile("0x\\[0-9a-fA-F]\\{(\\d+)}");
    private static final Pattern DIGITS = Pattern.compile("^\\^\\[0-9]\\{1,(\\d+)}\\$$");

    private SchemaArbitraries() {
    }

    /** Arguments for a tool: valid-ish or broken in one way. */
    static Arbitrary<Object> arguments(JsonNode inputSchema) {
        Arbitrary<Map<String, Object>> valid = object(inputSchema);
        List<String> properties = new ArrayList<>(inputSchema.path("properties").propertyNames());
        List<String> required = new ArrayList<>();
        inputSchema.path("required").forEach(name -> required.add(name.stringValue()));
        Arbitrary<Object> withJunkField = properties.isEmpty() ? valid.map(map -> (Object) map)
                : Combinators.combine(valid, Arbitraries.of(properties), junk()).as((map, field, junk) -> {
                    Map<String, Object> copy = new LinkedHashMap<>(map);
                    copy.put(field, junk);
                    return copy;
                });
        Arbitrary<Object> withoutRequired = required.isEmpty() ? valid.map(map -> (Object) map)
                : Combinators.combine(valid, Arbitraries.of(required)).as((map, field) -> {
                    Map<String, Object> copy = new LinkedHashMap<>(map);
                    copy.remove(field);
                    return copy;
                });
        Arbitrary<Object> withExtra = Combinators.combine(valid, Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(12),
                junk()).as((map, name, junk) -> {
                    Map<String, Object> copy = new LinkedHashMap<>(map);
                    copy.put(name, junk);
                    return copy;
                });
        return Arbitraries.frequencyOf(
                Tuple.of(3, valid.map(map -> (Object) map)),
                Tuple.of(4, withJunkField),
                Tuple.of(2, withoutRequired),
                Tuple.of(1, withExtra),
                Tuple.of(1, junk()));
    }

    static Arbitrary<Map<String, Object>> object(JsonNode schema) {
        JsonNode properties = schema.path("properties");
        Set<String> required = new java.util.HashSet<>();
        schema.path("required").forEach(name -> required.add(name.stringValue()));
        List<String> names = new ArrayList<>(properties.propertyNames());
        List<Arbitrary<Object>> values = new ArrayList<>();
        for (String name : names) {
            Arbitrary<Object> value = value(properties.path(name));
            values.add(required.contains(name) ? value : Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(ABSENT)),
                    Tuple.of(1, value)));
        }
        JsonNode additional = schema.path("additionalProperties");
        Arbitrary<Map<String, Object>> extra = additional.isObject()
                ? Arbitraries.maps(Arbitraries.strings().withCharRange('A', 'Z').ofMinLength(1).ofMaxLength(8),
                        value(additional)).ofMaxSize(3)
                : Arbitraries.just(Map.of());
        if (values.isEmpty()) {
            return extra.map(LinkedHashMap::new);
        }
        return Combinators.combine(Combinators.combine(values).as(List::copyOf), extra).as((drawn, more) -> {
            Map<String, Object> map = new LinkedHashMap<>(more);
            for (int i = 0; i < names.size(); i++) {
                if (drawn.get(i) != ABSENT) {
                    map.put(names.get(i), drawn.get(i));
                }
            }
            return map;
        });
    }

    static Arbitrary<Object> value(JsonNode schema) {
        if (schema.has("enum")) {
            List<Object> choices = new ArrayList<>();
            schema.path("enum").forEach(choice -> choices.add(choice.isString() ? choice.stringValue() : choice.toString()));
            return Arbitraries.of(choices);
        }
        String type = schema.path("type").isString() ? schema.path("type").stringValue() : "any";
        return switch (type) {
            case "string" -> string(schema).map(text -> (Object) text);
            case "integer" -> Arbitraries.longs()
                    .between(schema.path("minimum").asLong(-1000), schema.path("maximum").asLong(1_000_000))
                    .map(number -> (Object) number);
            case "number" -> Arbitraries.doubles()
                    .between(schema.path("minimum").asDouble(-1000), schema.path("maximum").asDouble(1000))
                    .map(number -> (Object) number);
            case "boolean" -> Arbitraries.of(true, false).map(bool -> (Object) bool);
            case "array" -> value(schema.path("items")).list().ofMinSize(schema.path("minItems").asInt(0))
                    .ofMaxSize(Math.max(schema.path("minItems").asInt(0), Math.min(4, schema.path("maxItems").asInt(4))))
                    .map(list -> (Object) list);
            case "object" -> object(schema).map(map -> (Object) map);
            default -> junk();
        };
    }

    /** A string that likely fits the schema's pattern and length (the patterns used by the tools, read loosely). */
    static Arbitrary<String> string(JsonNode schema) {
        int minimum = schema.path("minLength").asInt(1);
        int maximum = Math.max(minimum, Math.min(schema.path("maxLength").asInt(40), 40));
        String pattern = schema.path("pattern").asString("");
        Matcher hex = HEX.matcher(pattern);
        if (hex.find()) {
            int digits = Integer.parseInt(hex.group(1));
            return Arbitraries.strings().withChars("0123456789abcdefABCDEF").ofLength(digits).map(text -> "0x" + text);
        }
        Matcher decimal = DIGITS.matcher(pattern);
        if (decimal.find()) {
            return Arbitraries.strings().numeric().ofMinLength(1).ofMaxLength(Integer.parseInt(decimal.group(1)));
        }
        if (pattern.startsWith("^[0-9]") || pattern.startsWith("^([0-9]")) {
            return Arbitraries.of("0", "1", "2.50", "10.000001", "999999", "0.5", "12.345678");
        }
        return Arbitraries.strings().withCharRange('a', 'z').withCharRange('A', 'Z').withCharRange('0', '9').withChars("-_")
                .ofMinLength(minimum).ofMaxLength(maximum);
    }

    /** What no schema asks for. */
    static Arbitrary<Object> junk() {
        Arbitrary<Object> leaf = Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.of(new JsonText.Raw("1e400"), new JsonText.Raw("-1e400"), new JsonText.Raw("1e-400"),
                        new JsonText.Raw("123456789012345678901234567890"), new JsonText.Raw("-9223372036854775809"),
                        new JsonText.Raw("9223372036854775808"), new JsonText.Raw("1e20"), new JsonText.Raw("-0"),
                        new JsonText.Raw("0.1e-7"), Long.MIN_VALUE, Long.MAX_VALUE, -1L, 0L, 0.5, Double.MAX_VALUE,
                        Double.MIN_VALUE, (long) Integer.MAX_VALUE + 1)),
                Tuple.of(3, Arbitraries.strings().ofMaxLength(80).map(text -> (Object) text)),
                Tuple.of(1, Arbitraries.of("", " ", "\u0000", "null", "NaN", "Infinity", "-1", "1e400", "../../etc/passwd",
                        "gpubroker://jobs/job_x", "\u202e\u0644\u0639\u0631\u0628\u064a\u0629", "\uD83D\uDE80\uD83D\uDE80",
                        "'; DROP TABLE agents; --", "${jndi:ldap://x}", "%00%2e%2e%2f").map(text -> (Object) text)),
                Tuple.of(1, Arbitraries.integers().between(1_000, 120_000).map(length -> (Object) "x".repeat(length))),
                Tuple.of(1, Arbitraries.of(JsonText.NULL, true, false)),
                Tuple.of(1, Arbitraries.integers().between(2, 60).map(depth -> (Object) new JsonText.Raw(
                        "[".repeat(depth) + "]".repeat(depth)))));
        return Arbitraries.recursive(() -> leaf, SchemaArbitraries::containerOf, 0, 2);
    }

    private static Arbitrary<Object> containerOf(Arbitrary<Object> inner) {
        return Arbitraries.frequencyOf(
                Tuple.of(3, inner),
                Tuple.of(1, inner.list().ofMaxSize(4).map(list -> (Object) list)),
                Tuple.of(1, Arbitraries.maps(Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(6), inner).ofMaxSize(3)
                        .map(map -> (Object) new LinkedHashMap<>(map))));
    }
}
