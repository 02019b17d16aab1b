package dev.gpubroker.platform.database;

import org.springframework.r2dbc.core.DatabaseClient.GenericExecuteSpec;

/** R2DBC needs the type of a null parameter; this keeps that noise out of the repositories. */
public final class Binds {

    private Binds() {
    }

    public static GenericExecuteSpec nullable(GenericExecuteSpec spec, String name, Object value, Class<?> type) {
        return value == null ? spec.bindNull(name, type) : spec.bind(name, value);
    }
}
