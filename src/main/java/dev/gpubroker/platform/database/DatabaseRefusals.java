package dev.gpubroker.platform.database;

import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.sql.SQLException;

import dev.gpubroker.config.StartupRefusal;

/**
 * The one place that decides which failures to reach PostgreSQL at start are an operator's to fix (the server is down,
 * the password is wrong, the database does not exist), and says each in one line naming host, port and database, never
 * the password. Anything else is not a refusal: it stays the failure it is, with its stack trace.
 */
final class DatabaseRefusals {

    /** SQLSTATE classes and codes (PostgreSQL, appendix A). */
    private static final String CONNECTION_EXCEPTION_CLASS = "08";
    private static final String INVALID_AUTHORIZATION_CLASS = "28";
    private static final String INVALID_CATALOG_NAME = "3D000";

    private DatabaseRefusals() {
    }

    /** The refusal that {@code failure} (from the first connection, made by the migrations) amounts to, or null. */
    static StartupRefusal refusalFor(Throwable failure, ExternalDatabase database) {
        String setting = "correct gpubroker.database.url";
        // The network's own word first ("Connection refused"): the driver wraps it in an SQLSTATE 08 of its own.
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof ConnectException || cause instanceof NoRouteToHostException
                    || cause instanceof SocketTimeoutException || cause instanceof UnknownHostException) {
                return new StartupRefusal("cannot reach PostgreSQL at " + database.host() + ":" + database.port() + " ("
                        + cause.getClass().getSimpleName() + ": " + cause.getMessage() + "): start it, or " + setting);
            }
        }
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof SQLException sql && sql.getSQLState() != null) {
                String state = sql.getSQLState();
                if (state.startsWith(INVALID_AUTHORIZATION_CLASS)) {
                    return new StartupRefusal("PostgreSQL at " + database.host() + ":" + database.port()
                            + " refuses user '" + database.user() + "' (SQLSTATE " + state + "): " + setting
                            + " (user:password@) or gpubroker.database.username and password");
                }
                if (state.equals(INVALID_CATALOG_NAME)) {
                    return new StartupRefusal("PostgreSQL at " + database.host() + ":" + database.port()
                            + " has no database '" + database.database() + "': create it (createdb " + database.database()
                            + "), or " + setting);
                }
                if (state.startsWith(CONNECTION_EXCEPTION_CLASS)) {
                    return new StartupRefusal("cannot connect to PostgreSQL at " + database.host() + ":" + database.port()
                            + " (SQLSTATE " + state + "): start it, or " + setting);
                }
            }
        }
        return null;
    }
}
