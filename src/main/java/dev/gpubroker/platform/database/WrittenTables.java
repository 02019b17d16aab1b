package dev.gpubroker.platform.database;

import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which tables a statement may write, read from its SQL: none for a query, the one table of an {@code INSERT},
 * {@code UPDATE}, {@code DELETE} or {@code MERGE}, and "any" ({@link Optional#empty()}) for whatever else the broker
 * cannot place (a {@code WITH} that might write, DDL, a procedure call): a read cache must never keep an answer a write
 * it did not see changed, so the doubt goes to "changed".
 */
final class WrittenTables {

    static final Optional<Set<String>> NONE = Optional.of(Set.of());

    // Comments and blank space before the statement's first word; the broker's SQL starts with its verb.
    private static final Pattern LEADING = Pattern.compile("\\A(?:\\s+|--[^\\n]*(?:\\n|\\z)|/\\*.*?\\*/)*", Pattern.DOTALL);
    private static final Pattern TARGET = Pattern.compile(
            "(?:INSERT\\s+INTO|UPDATE|DELETE\\s+FROM|MERGE\\s+INTO)\\s+(?:ONLY\\s+)?((?:\"?\\w+\"?\\.)?\"?\\w+\"?)",
            Pattern.CASE_INSENSITIVE);

    private WrittenTables() {
    }

    /** The tables {@code sql} may write: empty set for a query, empty optional when any table may have changed. */
    static Optional<Set<String>> of(String sql) {
        Matcher leading = LEADING.matcher(sql);
        int start = leading.lookingAt() ? leading.end() : 0;
        String verb = firstWord(sql, start);
        switch (verb) {
            case "SELECT", "VALUES", "SHOW", "EXPLAIN", "TABLE" -> {
                return NONE;
            }
            case "INSERT", "UPDATE", "DELETE", "MERGE" -> {
                Matcher target = TARGET.matcher(sql).region(start, sql.length());
                if (!target.lookingAt()) {
                    return Optional.empty();
                }
                String table = target.group(1).replace("\"", "");
                return Optional.of(Set.of(table.substring(table.lastIndexOf('.') + 1).toLowerCase(Locale.ROOT)));
            }
            default -> {
                return Optional.empty();
            }
        }
    }

    private static String firstWord(String sql, int start) {
        int end = start;
        while (end < sql.length() && Character.isLetter(sql.charAt(end))) {
            end++;
        }
        return sql.substring(start, end).toUpperCase(Locale.ROOT);
    }
}
