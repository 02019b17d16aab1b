package dev.gpubroker.platform.database;

import java.util.LinkedHashMap;
import java.util.Map;

import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.r2dbc.core.DatabaseClient.GenericExecuteSpec;

/**
 * An operator's listing: rows of one table matching the filters that are set (a null filter is left out), newest
 * first, one page. Column names come from the repositories, never from a caller.
 */
public final class NewestFirst {

    private NewestFirst() {
    }

    /**
     * @param condition always applied ({@code "1 = 1"} for none)
     * @param filters   column → wanted value; null values are not filtered on
     */
    public static GenericExecuteSpec page(DatabaseClient db, String table, String condition, Map<String, Object> filters,
            int limit, int offset) {
        StringBuilder sql = new StringBuilder("SELECT * FROM ").append(table).append(" WHERE ").append(condition);
        Map<String, Object> set = new LinkedHashMap<>();
        filters.forEach((column, value) -> {
            if (value != null) {
                sql.append(" AND ").append(column).append(" = :").append(column);
                set.put(column, value);
            }
        });
        GenericExecuteSpec spec = db.sql(sql.append(" ORDER BY created_at DESC LIMIT :limit OFFSET :offset").toString())
                .bind("limit", limit).bind("offset", offset);
        for (Map.Entry<String, Object> filter : set.entrySet()) {
            spec = spec.bind(filter.getKey(), filter.getValue());
        }
        return spec;
    }
}
