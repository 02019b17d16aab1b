package dev.gpubroker.platform.database;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import org.springframework.r2dbc.core.DatabaseClient;

import reactor.core.publisher.Mono;

/**
 * How many rows of a table are in each state of its lifecycle, for the operator's gauges: every state of the enum is
 * present (zero when no row is in it), so that a state that empties reads 0 rather than vanishing; keyed by the state's
 * lowercase name. A value in the table that the enum does not know (a newer version's) is counted under its own name.
 */
public final class StateCounts {

    private StateCounts() {
    }

    /** {@code table} and {@code column} are the calling repository's constants, never input. */
    public static <E extends Enum<E>> Mono<Map<String, Long>> of(DatabaseClient db, String table, String column, E[] states) {
        return db.sql("SELECT " + column + " AS state, COUNT(*) AS n FROM " + table + " GROUP BY " + column)
                .map(row -> Map.entry(row.get("state", String.class), Columns.longValue(row, "n")))
                .all()
                .collectMap(Map.Entry::getKey, Map.Entry::getValue)
                .map(found -> {
                    Map<String, Long> counts = new LinkedHashMap<>();
                    for (E state : states) {
                        counts.put(state.name().toLowerCase(Locale.ROOT), 0L);
                    }
                    found.forEach((state, count) -> counts.merge(state.toLowerCase(Locale.ROOT), count, Long::sum));
                    return counts;
                });
    }
}
