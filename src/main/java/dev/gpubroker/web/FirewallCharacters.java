package dev.gpubroker.web;

import java.util.function.Predicate;

/**
 * The strict firewall's own rules for header names and values, decided character by character instead of by its
 * regular expressions ({@code [\p{IsAssigned}&&[^\p{IsControl}]]*}, and for values the same with tab allowed). The
 * same rules: FirewallCharactersTest checks every code point against Spring Security's predicates. Why: the lane reads
 * every header of every tool call through the firewall, and the expressions' character classes took about 8 µs of a
 * call's 250 (HotPathBenchmark's flight recordings, docs/performance.md).
 */
final class FirewallCharacters {

    /** A name: every code point assigned and none a control character. Null passes, as with the firewall's own. */
    static final Predicate<String> HEADER_NAMES = name -> allowed(name, false);
    /** A value: the same, except that tab is allowed. */
    static final Predicate<String> HEADER_VALUES = value -> allowed(value, true);

    private FirewallCharacters() {
    }

    private static boolean allowed(String text, boolean tabAllowed) {
        if (text == null) {
            return true;
        }
        for (int i = 0; i < text.length(); ) {
            int codePoint = text.codePointAt(i);
            int type = Character.getType(codePoint);
            if (type == Character.UNASSIGNED || type == Character.CONTROL && !(tabAllowed && codePoint == '\t')) {
                return false;
            }
            i += Character.charCount(codePoint);
        }
        return true;
    }
}
