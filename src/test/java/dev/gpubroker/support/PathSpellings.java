package dev.gpubroker.support;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * Other ways to write one path that a lenient router, or a careless filter, might take for the same route or for
 * another: matrix parameters on each segment, percent-encoding of each letter and of each '/', double slashes, dot
 * segments (plain and encoded), case, trailing characters, backslashes. Each spelling comes with what it is, for the
 * failure message.
 */
public final class PathSpellings {

    /** A spelling of a path and what was done to the canonical one. */
    public record Spelling(String target, String how) {

        /** Spellings a strict firewall refuses outright, whatever the route: path parameters, encoded separators, dots. */
        public boolean needsRefusalOutright() {
            String lower = target.toLowerCase(Locale.ROOT);
            return lower.contains(";") || lower.contains("%2f") || lower.contains("%2e") || lower.contains("%3b")
                    || lower.contains("%5c") || lower.contains("\\") || lower.contains("%25") || lower.contains("%00")
                    || lower.contains("//") || lower.contains("/./") || lower.contains("/../") || lower.endsWith("/.")
                    || lower.endsWith("/..");
        }
    }

    private PathSpellings() {
    }

    public static List<Spelling> of(String path) {
        if (!path.startsWith("/")) {
            throw new IllegalArgumentException("a path starts with '/': " + path);
        }
        Map<String, String> spellings = new LinkedHashMap<>();
        List<String> segments = List.of(path.substring(1).split("/", -1));
        for (int i = 0; i < segments.size(); i++) {
            final int index = i;
            spellings.putIfAbsent(withSegment(segments, i, s -> s + ";x"), "matrix parameter on segment " + i);
            spellings.putIfAbsent(withSegment(segments, i, s -> s + ";jsessionid=1"), "matrix parameter with a value on segment " + i);
            spellings.putIfAbsent(withSegment(segments, i, s -> s + "%3Bx"), "encoded ';' on segment " + i);
            spellings.putIfAbsent(withSegment(segments, i, s -> ";x" + s), "';' before segment " + i);
            spellings.putIfAbsent(withSegment(segments, i, PathSpellings::encodeLetters), "every letter of segment " + i + " encoded");
            spellings.putIfAbsent(withSegment(segments, i, s -> s.toUpperCase(Locale.ROOT)), "segment " + i + " upper case");
            spellings.putIfAbsent(withSegment(segments, i, s -> s + "%00"), "encoded NUL after segment " + i);
            spellings.putIfAbsent(insertAfter(segments, index, "."), "'.' segment after segment " + i);
            spellings.putIfAbsent(insertAfter(segments, index, "x/.."), "'x/..' after segment " + i);
            spellings.putIfAbsent(insertAfter(segments, index, "%2e"), "encoded '.' segment after segment " + i);
            spellings.putIfAbsent(insertAfter(segments, index, "x/%2e%2e"), "'x/%2e%2e' after segment " + i);
            spellings.putIfAbsent(insertAfter(segments, index, "x/.%2E"), "'x/.%2E' after segment " + i);
            spellings.putIfAbsent(insertAfter(segments, index, ""), "'//' after segment " + i);
        }
        for (int position = 1; position < path.length(); position++) {
            char c = path.charAt(position);
            String before = path.substring(0, position);
            String after = path.substring(position + 1);
            if (Character.isLetterOrDigit(c) || c == '-' || c == '_') {
                String upperHex = percent(c, true);
                spellings.putIfAbsent(before + upperHex + after, "'" + c + "' at " + position + " percent-encoded");
                String lowerHex = percent(c, false);
                spellings.putIfAbsent(before + lowerHex + after, "'" + c + "' at " + position + " percent-encoded, lower-case hex");
            } else if (c == '/') {
                spellings.putIfAbsent(before + "%2F" + after, "'/' at " + position + " encoded as %2F");
                spellings.putIfAbsent(before + "%2f" + after, "'/' at " + position + " encoded as %2f");
                spellings.putIfAbsent(before + "\\" + after, "'/' at " + position + " as a backslash");
                spellings.putIfAbsent(before + "%5C" + after, "'/' at " + position + " as an encoded backslash");
                spellings.putIfAbsent(before + "//" + after, "'/' at " + position + " doubled");
            }
        }
        spellings.putIfAbsent("/" + path, "leading '//'");
        spellings.putIfAbsent("/./" + path.substring(1), "leading '/./'");
        spellings.putIfAbsent("/../" + path.substring(1), "leading '/../'");
        spellings.putIfAbsent("/%2e/" + path.substring(1), "leading encoded '.' segment");
        spellings.putIfAbsent(path.toUpperCase(Locale.ROOT), "all upper case");
        spellings.putIfAbsent(capitalised(segments), "each segment capitalised");
        spellings.putIfAbsent(encodeLetters(path), "every letter percent-encoded");
        spellings.putIfAbsent(path + "/", "trailing '/'");
        spellings.putIfAbsent(path + "//", "trailing '//'");
        spellings.putIfAbsent(path + "/.", "trailing '/.'");
        spellings.putIfAbsent(path + "/..", "trailing '/..'");
        spellings.putIfAbsent(path + ";", "trailing ';'");
        spellings.putIfAbsent(path + "%20", "trailing encoded space");
        spellings.putIfAbsent(path + ".json", "trailing '.json'");
        spellings.putIfAbsent(path + "?x=1", "a query");
        spellings.putIfAbsent("/%25" + hex(path.charAt(1), true) + path.substring(2), "first letter encoded twice");
        spellings.remove(path);
        List<Spelling> result = new ArrayList<>();
        spellings.forEach((target, how) -> result.add(new Spelling(target, how)));
        return result;
    }

    private static String withSegment(List<String> segments, int index, UnaryOperator<String> change) {
        List<String> copy = new ArrayList<>(segments);
        copy.set(index, change.apply(copy.get(index)));
        return "/" + String.join("/", copy);
    }

    private static String insertAfter(List<String> segments, int index, String inserted) {
        List<String> copy = new ArrayList<>(segments);
        copy.add(index + 1, inserted);
        return "/" + String.join("/", copy);
    }

    private static String capitalised(List<String> segments) {
        List<String> copy = new ArrayList<>();
        for (String segment : segments) {
            copy.add(segment.isEmpty() ? segment : Character.toUpperCase(segment.charAt(0)) + segment.substring(1));
        }
        return "/" + String.join("/", copy);
    }

    private static String encodeLetters(String text) {
        StringBuilder encoded = new StringBuilder();
        for (char c : text.toCharArray()) {
            encoded.append(Character.isLetter(c) ? percent(c, true) : String.valueOf(c));
        }
        return encoded.toString();
    }

    private static String percent(char c, boolean upperHex) {
        return "%" + hex(c, upperHex);
    }

    private static String hex(char c, boolean upperHex) {
        String hex = HexFormat.of().formatHex(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
        return upperHex ? hex.toUpperCase(Locale.ROOT) : hex;
    }
}
