package dev.gpubroker;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Arrays;
import java.util.Map;

import org.slf4j.LoggerFactory;

import org.springframework.boot.Banner;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;

import dev.gpubroker.bootstrap.EmbeddedDefaults;
import dev.gpubroker.config.BrokerProperties;
import dev.gpubroker.config.DataDirectoryLock;
import dev.gpubroker.config.StartupRefusal;
import dev.gpubroker.mcp.stdio.StdioAgentKey;
import dev.gpubroker.mcp.stdio.StdioServer;

/**
 * Starts GPU Broker: MCP over streamable HTTP at http://127.0.0.1:8080/mcp plus the admin API under /admin/v1, or,
 * with {@code --stdio}, MCP over stdin/stdout (nothing else is written to stdout; logs go to stderr).
 */
@SpringBootApplication
@ConfigurationPropertiesScan
public class GpuBrokerApplication {

    static final String STDIO_FLAG = "--stdio";
    static final int EXIT_NOT_STARTED = 1;
    /** How long the stdio handshake has the CPUs to itself, at most, before the application starts beside it. */
    static final java.time.Duration HANDSHAKE_HEAD_START = java.time.Duration.ofSeconds(2);

    public static void main(String[] args) throws InterruptedException {
        boolean stdio = Arrays.asList(args).contains(STDIO_FLAG);
        if (args.length > 0 && (args[0].equals("--help") || args[0].equals("-h"))) {
            System.out.println(HELP);
            return;
        }
        PrintStream protocolOut = System.out;
        if (stdio) {
            // Whatever a library prints to System.out would corrupt the protocol: send it to stderr.
            System.setOut(System.err);
        }
        quietLoggingUntilSpringConfiguresIt();
        String[] springArgs = Arrays.stream(args).filter(arg -> !arg.equals(STDIO_FLAG)).toArray(String[]::new);
        StartupRefusal refused = null;
        try {
            // Before anything else touches the data directory; the lock is held until this process ends.
            DataDirectoryLock.acquire(dataDirectory(springArgs), stdio ? "stdio" : "http");
        } catch (StartupRefusal refusal) {
            refused = refusal;
        }
        if (!stdio) {
            if (refused != null) {
                System.err.println(NOT_STARTED + refused.getMessage());
                System.exit(EXIT_NOT_STARTED);
            }
            ConfigurableApplicationContext context;
            try {
                context = application(false).run(springArgs);
            } catch (RuntimeException failure) {
                StartupRefusal refusal = StartupRefusal.findIn(failure);
                if (refusal == null) {
                    throw failure;
                }
                // Spring Boot has reported it above (StartupRefusalAnalyzer); the last line says it once more, plainly.
                System.err.println(NOT_STARTED + refusal.getMessage());
                System.exit(EXIT_NOT_STARTED);
                return;
            }
            context.getBean(EmbeddedDefaults.class).ensure().block();
            return;
        }
        serveStdio(springArgs, protocolOut, refused);
    }

    /**
     * MCP over stdio, served before the application starts: the handshake and the tool list are answered at once, and
     * the database, chain and providers start behind them (tool calls wait for them). A start that fails leaves the
     * process serving, every call answering why, and says why on stderr in one line.
     */
    private static void serveStdio(String[] springArgs, PrintStream protocolOut, StartupRefusal refused)
            throws InterruptedException {
        StdioServer server = StdioServer.serve(System.in, protocolOut);
        ConfigurableApplicationContext context = null;
        if (refused != null) {
            System.err.println(NOT_STARTED + refused.getMessage());
            server.failed(refused);
        } else {
            server.awaitToolListOrTimeout(HANDSHAKE_HEAD_START);
            try {
                context = application(true).run(springArgs);
                context.getBean(EmbeddedDefaults.class).ensure().block();
                context.getBean(StdioAgentKey.class).attachTo(server).block();
            } catch (RuntimeException failure) {
                StartupRefusal refusal = StartupRefusal.findIn(failure);
                System.err.println(NOT_STARTED + (refusal != null ? refusal.getMessage()
                        : failure + " (the log above has the details)"));
                server.failed(failure);
            }
        }
        server.awaitInputEnd();
        server.close();
        if (context != null) {
            context.close();
        }
        System.exit(0);
    }

    private static SpringApplication application(boolean stdio) {
        SpringApplication application = new SpringApplication(GpuBrokerApplication.class);
        application.setBannerMode(Banner.Mode.OFF);
        if (stdio) {
            application.setWebApplicationType(WebApplicationType.NONE);
            application.setDefaultProperties(Map.of("gpubroker.transport", "stdio"));
        }
        return application;
    }

    /**
     * The data directory as the command line ({@code --gpubroker.data-dir=}), a system property or the environment
     * (GPUBROKER_DATA_DIR) sets it, read before Spring starts and without it: Spring's binder and its conversion
     * services cost half a second, which stdio clients wait through. One set in a configuration file is locked by
     * {@code DataDirectoryLocking} once Spring has read it.
     */
    static Path dataDirectory(String[] args) {
        String fromArguments = null;
        for (String arg : args) {
            if (arg.startsWith("--" + BrokerProperties.DATA_DIR_PROPERTY + "=")) {
                fromArguments = arg.substring(BrokerProperties.DATA_DIR_PROPERTY.length() + 3);
            }
        }
        for (String candidate : new String[] {fromArguments, System.getProperty(BrokerProperties.DATA_DIR_PROPERTY),
                System.getenv("GPUBROKER_DATA_DIR"), System.getenv("GPUBROKER_DATADIR")}) {
            if (candidate != null && !candidate.isBlank()) {
                return Path.of(candidate);
            }
        }
        return Path.of(BrokerProperties.DATA_DIR_DEFAULT);
    }

    /**
     * Until Spring Boot configures logging (application.yml), Logback's default logs everything at DEBUG: the stdio
     * server logs before that, so say INFO, as application.yml will.
     */
    private static void quietLoggingUntilSpringConfiguresIt() {
        // SLF4J finds its provider by scanning every jar inside this one (a few hundred ms here, which stdio clients
        // wait through); naming the one it would find anyway skips the scan.
        if (System.getProperty("slf4j.provider") == null) {
            System.setProperty("slf4j.provider", "ch.qos.logback.classic.spi.LogbackServiceProvider");
            if (System.getProperty("slf4j.internal.verbosity") == null) {
                System.setProperty("slf4j.internal.verbosity", "WARN");
            }
        }
        if (LoggerFactory.getILoggerFactory() instanceof ch.qos.logback.classic.LoggerContext logback) {
            logback.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).setLevel(ch.qos.logback.classic.Level.INFO);
            logback.getLogger("io.modelcontextprotocol").setLevel(ch.qos.logback.classic.Level.WARN);
        }
    }

    static final String NOT_STARTED = "GPU Broker did not start: ";

    @Bean
    Clock clock() {
        // Millisecond ticks: instants survive a database round trip unchanged and read well in tool output.
        return Clock.tick(Clock.systemUTC(), java.time.Duration.ofMillis(1));
    }

    static final String HELP = """
            GPU Broker: an MCP server through which AI agents buy GPU time, paid in USDC.

            Usage:
              java -jar gpu-broker.jar [--server.port=8080] [--gpubroker.data-dir=./data]
                  Serves MCP over streamable HTTP at http://127.0.0.1:8080/mcp and the admin API at /admin/v1.
              java -jar gpu-broker.jar --stdio
                  Serves MCP over stdin/stdout for one agent (GPUBROKER_AGENT_KEY, or the demo agent by default).

            Environment:
              GPUBROKER_DATA_DIR      where all state lives: database, chain, keystores (default ./data)
              GPUBROKER_AGENT_KEY     agent API key for --stdio
              GPUBROKER_ADMIN_TOKEN   admin token (default: generated into <data>/admin.token)

            Every setting is listed in the README (Configuration).""";
}
