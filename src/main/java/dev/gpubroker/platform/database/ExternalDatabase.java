package dev.gpubroker.platform.database;

import java.time.Duration;
import java.util.Locale;

import io.r2dbc.spi.ConnectionFactoryOptions;
import io.r2dbc.spi.Option;

import dev.gpubroker.config.BrokerProperties;
import dev.gpubroker.config.StartupRefusal;

/**
 * The database named by {@code gpubroker.database.url}: PostgreSQL, the one server GPU Broker runs on besides its
 * embedded H2. The same database is reached twice, once over R2DBC for the application and once over JDBC for Flyway's
 * migrations, so this class says both from the one setting. Its {@link #toString()} and {@link #where()} never carry the
 * password: they are what logs and refusals show.
 */
record ExternalDatabase(ConnectionFactoryOptions options, String host, int port, String database, String user) {

    static final String DRIVER = "postgresql";
    static final int DEFAULT_PORT = 5432;
    static final String APPLICATION_NAME = "gpu-broker";
    static final String EXAMPLE = "r2dbc:postgresql://user:password@host:5432/database";

    /** As H2's LOCK_TIMEOUT: a statement waits this long for a row lock, then fails, rather than forever. */
    static final Duration LOCK_WAIT_DEFAULT = Duration.ofSeconds(10);
    static final Duration CONNECT_TIMEOUT_DEFAULT = Duration.ofSeconds(10);

    /** r2dbc-postgresql's name for the TLS mode; JDBC's is {@code sslmode}, with the same values. */
    private static final Option<Object> SSL_MODE = Option.valueOf("sslMode");
    /** How the server's pg_stat_activity names these connections. */
    private static final Option<Object> APPLICATION_NAME_OPTION = Option.valueOf("applicationName");

    /**
     * Reads the setting. The user and password may be in the URL ({@code r2dbc:postgresql://user:password@host/db}) or
     * in {@code gpubroker.database.username} and {@code password}; those settings win where they are set.
     */
    static ExternalDatabase of(BrokerProperties.Database settings) {
        ConnectionFactoryOptions parsed;
        try {
            parsed = ConnectionFactoryOptions.parse(settings.url());
        } catch (IllegalArgumentException notAUrl) {
            // Not the URL itself in the message: it may hold a password.
            throw new StartupRefusal("gpubroker.database.url is not an R2DBC URL; leave it empty for the embedded "
                    + "database, or give PostgreSQL's as " + EXAMPLE);
        }
        Object driver = parsed.getValue(ConnectionFactoryOptions.DRIVER);
        if (!DRIVER.equals(driver) || parsed.getValue(ConnectionFactoryOptions.PROTOCOL) != null) {
            throw new StartupRefusal("gpubroker.database.url names the R2DBC driver '" + driver + "'"
                    + (parsed.getValue(ConnectionFactoryOptions.PROTOCOL) == null ? ""
                            : " with protocol '" + parsed.getValue(ConnectionFactoryOptions.PROTOCOL) + "'")
                    + "; GPU Broker runs on its embedded database (leave the setting empty) or on PostgreSQL: "
                    + EXAMPLE + " (it pools connections itself)");
        }
        if (parsed.getValue(ConnectionFactoryOptions.HOST) == null) {
            throw new StartupRefusal("gpubroker.database.url names no host; give it as " + EXAMPLE);
        }
        ConnectionFactoryOptions.Builder options = parsed.mutate();
        if (!settings.username().isBlank()) {
            options.option(ConnectionFactoryOptions.USER, settings.username());
        }
        if (!settings.password().isEmpty()) {
            options.option(ConnectionFactoryOptions.PASSWORD, settings.password());
        }
        if (!parsed.hasOption(ConnectionFactoryOptions.LOCK_WAIT_TIMEOUT)) {
            options.option(ConnectionFactoryOptions.LOCK_WAIT_TIMEOUT, LOCK_WAIT_DEFAULT);
        }
        if (!parsed.hasOption(APPLICATION_NAME_OPTION)) {
            options.option(APPLICATION_NAME_OPTION, APPLICATION_NAME);
        }
        if (!parsed.hasOption(ConnectionFactoryOptions.CONNECT_TIMEOUT)) {
            options.option(ConnectionFactoryOptions.CONNECT_TIMEOUT, CONNECT_TIMEOUT_DEFAULT);
        }
        ConnectionFactoryOptions complete = options.build();
        Object user = complete.getValue(ConnectionFactoryOptions.USER);
        if (user == null || user.toString().isBlank()) {
            throw new StartupRefusal("gpubroker.database.url names no user; give it as " + EXAMPLE
                    + ", or set gpubroker.database.username");
        }
        Object port = complete.getValue(ConnectionFactoryOptions.PORT);
        Object database = complete.getValue(ConnectionFactoryOptions.DATABASE);
        return new ExternalDatabase(complete, complete.getRequiredValue(ConnectionFactoryOptions.HOST).toString(),
                port == null ? DEFAULT_PORT : Integer.parseInt(port.toString()),
                database == null ? "" : database.toString(), user.toString());
    }

    /** Where the database is, as logs and refusals name it: host, port and database, never the credentials. */
    String where() {
        return host + ":" + port + "/" + database;
    }

    /**
     * Flyway's JDBC connection to the same database, with the TLS mode the R2DBC URL asks for; the credentials go beside
     * it ({@link #user()}, {@link #password()}), never in it, so that the URL can be logged.
     */
    String jdbcUrl() {
        StringBuilder url = new StringBuilder("jdbc:postgresql://").append(host.contains(":") ? "[" + host + "]" : host)
                .append(':').append(port).append('/').append(database)
                .append("?ApplicationName=").append(APPLICATION_NAME)
                .append("&connectTimeout=").append(CONNECT_TIMEOUT_DEFAULT.toSeconds());
        Object sslMode = options.getValue(SSL_MODE);
        if (sslMode != null) {
            url.append("&sslmode=").append(sslMode.toString().toLowerCase(Locale.ROOT).replace('_', '-'));
        }
        return url.toString();
    }

    /** The password, for the connections alone; empty when none is given. */
    String password() {
        Object password = options.getValue(ConnectionFactoryOptions.PASSWORD);
        return password == null ? "" : password.toString();
    }

    @Override
    public String toString() {
        return "PostgreSQL at " + where() + " as " + user;
    }
}
