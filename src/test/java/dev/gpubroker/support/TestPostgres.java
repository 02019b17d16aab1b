package dev.gpubroker.support;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import io.r2dbc.spi.ConnectionFactoryOptions;

/**
 * A real PostgreSQL server for the tests that run on it ({@link PostgresDatabase}).
 *
 * <p>Which server: the one {@value #URL_VARIABLE} names ({@code r2dbc:postgresql://user:password@host:port/database},
 * a user that may create databases; {@code .ci/run} starts one and sets it), else one this JVM starts itself from the
 * PostgreSQL installed here (Debian's {@code /usr/lib/postgresql/<version>/bin}): initdb into a temporary directory,
 * password authentication, loopback only, a free port; run as user {@code postgres} when this JVM runs as root
 * (PostgreSQL refuses root). The server is stopped and its directory removed when this JVM ends, also when it is killed:
 * a small shell holds the server and stops it when the pipe from this JVM closes.
 *
 * <p>Each Spring context gets a database of its own ({@link #newDatabaseUrl()}): its chain state and keystores are in a
 * fresh data directory, and the database must be as fresh as they are.
 */
public final class TestPostgres {

    public static final String URL_VARIABLE = "GPUBROKER_TEST_POSTGRES_URL";
    private static final Path INSTALLED = Path.of("/usr/lib/postgresql");
    private static final String SUPERUSER = "postgres";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

    /** Stops the server when stdin closes (this JVM ended, however it ended), then removes its directory. */
    private static final String HOLDER_SCRIPT = """
            root=$1; shift
            "$@" &
            server=$!
            read ignored
            kill -INT "$server"
            wait "$server"
            rm -rf "$root"
            """;

    private static TestPostgres server;

    private final String host;
    private final int port;
    private final String user;
    private final String password;
    private final String adminDatabase;
    private final AtomicInteger databases = new AtomicInteger();

    private TestPostgres(String host, int port, String user, String password, String adminDatabase) {
        this.host = host;
        this.port = port;
        this.user = user;
        this.password = password;
        this.adminDatabase = adminDatabase;
    }

    /** The server, started (or reached) on first use. Fails, never skips: see {@link #whyUnavailable()} for that. */
    public static synchronized TestPostgres server() {
        if (server == null) {
            String url = System.getenv(URL_VARIABLE);
            server = url == null || url.isBlank() ? startHere() : named(url);
        }
        return server;
    }

    /**
     * Why no server can be had here, or empty when one can: {@value #URL_VARIABLE} is set, or PostgreSQL is installed
     * (and, when this JVM is root, a {@code postgres} user exists to run it). Starts nothing.
     */
    public static Optional<String> whyUnavailable() {
        String url = System.getenv(URL_VARIABLE);
        if (url != null && !url.isBlank()) {
            return Optional.empty();
        }
        if (binaries().isEmpty()) {
            return Optional.of("no PostgreSQL: set " + URL_VARIABLE + " to a server's r2dbc:postgresql:// URL, or install "
                    + "one (apt-get install postgresql) for the tests to start their own from " + INSTALLED);
        }
        if (runningAsRoot()) {
            try {
                FileSystems.getDefault().getUserPrincipalLookupService().lookupPrincipalByName(SUPERUSER);
            } catch (IOException missing) {
                return Optional.of("running as root, and no user '" + SUPERUSER + "' for PostgreSQL to run as");
            }
        }
        return Optional.empty();
    }

    /** A new, empty database on the server; answers its R2DBC URL, password included. */
    public String newDatabaseUrl() {
        String name = "gpubroker_" + ProcessHandle.current().pid() + "_" + databases.incrementAndGet();
        try (Connection connection = connect(adminDatabase); Statement statement = connection.createStatement()) {
            statement.execute("CREATE DATABASE " + name);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create database " + name + " on PostgreSQL at " + host + ":" + port
                    + ": " + e.getMessage(), e);
        }
        return r2dbcUrl(name);
    }

    public String r2dbcUrl(String database) {
        return "r2dbc:postgresql://" + user + ":" + password + "@" + host + ":" + port + "/" + database;
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    /** The password in every URL this server hands out: a test may check that no log shows it. */
    public String password() {
        return password;
    }

    /** A JDBC connection to one of this server's databases, for a test that looks under the application. */
    public Connection connect(String database) throws SQLException {
        Properties properties = new Properties();
        properties.setProperty("user", user);
        properties.setProperty("password", password);
        properties.setProperty("connectTimeout", "5");
        return DriverManager.getConnection("jdbc:postgresql://" + host + ":" + port + "/" + database, properties);
    }

    private static TestPostgres named(String url) {
        ConnectionFactoryOptions options;
        try {
            options = ConnectionFactoryOptions.parse(url);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException(URL_VARIABLE + " is not an R2DBC URL (r2dbc:postgresql://user:password@host:port/db)");
        }
        Object port = options.getValue(ConnectionFactoryOptions.PORT);
        Object password = options.getValue(ConnectionFactoryOptions.PASSWORD);
        Object database = options.getValue(ConnectionFactoryOptions.DATABASE);
        TestPostgres named = new TestPostgres(String.valueOf(options.getRequiredValue(ConnectionFactoryOptions.HOST)),
                port == null ? 5432 : Integer.parseInt(port.toString()),
                String.valueOf(options.getRequiredValue(ConnectionFactoryOptions.USER)),
                password == null ? "" : password.toString(), database == null ? SUPERUSER : database.toString());
        try (Connection connection = named.connect(named.adminDatabase)) {
            connection.isValid(5);
        } catch (SQLException e) {
            // Set but unreachable is a failure, never a skip: CI sets it so that these tests run.
            throw new IllegalStateException(URL_VARIABLE + " names PostgreSQL at " + named.host + ":" + named.port
                    + ", which cannot be used: " + e.getMessage(), e);
        }
        return named;
    }

    private static TestPostgres startHere() {
        Path bin = binaries().orElseThrow(() -> new IllegalStateException(whyUnavailable().orElse("no PostgreSQL")));
        try {
            Path root = Files.createTempDirectory("gpubroker-postgres-");
            byte[] secret = new byte[16];
            new SecureRandom().nextBytes(secret);
            String password = HexFormat.of().formatHex(secret);
            Path passwordFile = root.resolve("password");
            Files.writeString(passwordFile, password + "\n", StandardCharsets.UTF_8);
            List<String> asServerUser = new ArrayList<>();
            if (runningAsRoot()) {
                giveTo(SUPERUSER, root, passwordFile);
                asServerUser.addAll(List.of("setpriv", "--reuid=" + SUPERUSER, "--regid=" + SUPERUSER, "--init-groups",
                        "--"));
            }
            Path data = root.resolve("data");
            List<String> initdb = new ArrayList<>(asServerUser);
            initdb.addAll(List.of(bin.resolve("initdb").toString(), "-D", data.toString(), "-U", SUPERUSER,
                    "--pwfile=" + passwordFile, "--auth=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync"));
            BrokerJar.Result created = BrokerJar.run(root, initdb, Map.of(), Duration.ofSeconds(120));
            if (created.exitCode() != 0) {
                throw new IllegalStateException("initdb failed (" + created.exitCode() + "):\n" + created.output());
            }
            Files.delete(passwordFile);
            int port = freePort();
            // Loopback only, no Unix socket; durability is not what tests need, speed is.
            Files.writeString(data.resolve("postgresql.conf"), """

                    listen_addresses = '127.0.0.1'
                    port = %d
                    unix_socket_directories = ''
                    max_connections = 300
                    fsync = off
                    synchronous_commit = off
                    full_page_writes = off
                    """.formatted(port), StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.APPEND);
            List<String> command = new ArrayList<>(List.of("sh", "-c", HOLDER_SCRIPT, "sh", root.toString()));
            command.addAll(asServerUser);
            command.addAll(List.of(bin.resolve("postgres").toString(), "-D", data.toString()));
            Path log = root.resolve("server.log");
            Process holder = new ProcessBuilder(command).directory(root.toFile()).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).start();
            OutputStream lifeline = holder.getOutputStream();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(holder, lifeline), "stop-test-postgres"));
            TestPostgres started = new TestPostgres("127.0.0.1", port, SUPERUSER, password, SUPERUSER);
            try {
                await().atMost(START_TIMEOUT).pollInterval(Duration.ofMillis(100)).until(() -> {
                    if (!holder.isAlive()) {
                        throw new IllegalStateException("PostgreSQL exited:\n" + Files.readString(log));
                    }
                    try (Connection connection = started.connect(SUPERUSER)) {
                        return connection.isValid(2);
                    } catch (SQLException notYet) {
                        return false;
                    }
                });
            } catch (RuntimeException notUp) {
                throw new IllegalStateException("PostgreSQL from " + bin + " did not start within " + START_TIMEOUT
                        + ":\n" + Files.readString(log), notUp);
            }
            return started;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static void stop(Process holder, OutputStream lifeline) {
        try {
            lifeline.close();
            if (!holder.waitFor(30, TimeUnit.SECONDS)) {
                holder.destroyForcibly();
            }
        } catch (IOException | InterruptedException ignored) {
            // The JVM is ending: the holder stops the server by itself once the pipe is gone.
        }
    }

    /** The newest PostgreSQL installed the Debian way, as its bin directory. */
    private static Optional<Path> binaries() {
        if (!Files.isDirectory(INSTALLED)) {
            return Optional.empty();
        }
        try (Stream<Path> versions = Files.list(INSTALLED)) {
            return versions.map(version -> version.resolve("bin"))
                    .filter(bin -> Files.isExecutable(bin.resolve("postgres")) && Files.isExecutable(bin.resolve("initdb")))
                    .max(Comparator.comparingInt(bin -> versionNumber(bin.getParent().getFileName().toString())));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static int versionNumber(String name) {
        try {
            return Integer.parseInt(name);
        } catch (NumberFormatException notAVersion) {
            return -1;
        }
    }

    private static boolean runningAsRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    private static void giveTo(String owner, Path... paths) throws IOException {
        UserPrincipalLookupService users = FileSystems.getDefault().getUserPrincipalLookupService();
        GroupPrincipal group;
        try {
            group = users.lookupPrincipalByGroupName(owner);
        } catch (UserPrincipalNotFoundException noSuchGroup) {
            group = null;
        }
        for (Path path : paths) {
            PosixFileAttributeView view = Files.getFileAttributeView(path, PosixFileAttributeView.class);
            view.setOwner(users.lookupPrincipalByName(owner));
            if (group != null) {
                view.setGroup(group);
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
