package dev.gpubroker.platform.database;

import java.time.Instant;
import java.time.OffsetDateTime;

import io.r2dbc.spi.Readable;

/** Reading column values the same way for H2 and PostgreSQL. */
public final class Columns {

    private Columns() {
    }

    public static Instant instant(Readable row, String column) {
        OffsetDateTime value = row.get(column, OffsetDateTime.class);
        return value == null ? null : value.toInstant();
    }

    public static long longValue(Readable row, String column) {
        Number value = row.get(column, Number.class);
        if (value == null) {
            throw new IllegalStateException("column " + column + " is null");
        }
        return value.longValue();
    }

    public static int intValue(Readable row, String column) {
        return Math.toIntExact(longValue(row, column));
    }
}
