package dev.gpubroker;

import java.io.PrintStream;
import java.time.Clock;
import java.util.Arrays;
import java.util.Map;

import org.springframework.boot.Banner;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;

import dev.gpubroker.bootstrap.EmbeddedDefaults;
import dev.gpubroker.mcp.stdio.StdioServer;

/**
 * Starts GPU Broker: MCP over streamable HTTP at http://127.0.0.1:8080/mcp plus the admin API under /admin/v1, or,
 * with {@code --stdio}, MCP over stdin/stdout (nothing else is written to stdout; logs go to stderr).
 */
@SpringBootApplication
@ConfigurationPropertiesScan
public class GpuBrokerApplication {

    static final String STDIO_FLAG = "--stdio";

    public static void main(String[] args) throws InterruptedException {
        boolean stdio = Arrays.asList(args).contains(STDIO_FLAG);
        if (args.length > 0 && (args[0].equals("--help") || args[0].equals("-h"))) {
            System.out.println(HELP);
            return;
        }
        PrintStream protocolOut = System.out;
        SpringApplication application = new SpringApplication(GpuBrokerApplication.class);
        application.setBannerMode(Banner.Mode.OFF);
        if (stdio) {
            // Whatever a library prints to System.out would corrupt the protocol: send it to stderr.
            System.setOut(System.err);
            application.setWebApplicationType(WebApplicationType.NONE);
            application.setDefaultProperties(Map.of("gpubroker.transport", "stdio"));
        }
        String[] springArgs = Arrays.stream(args).filter(arg -> !arg.equals(STDIO_FLAG)).toArray(String[]::new);
        ConfigurableApplicationContext context = application.run(springArgs);
        context.getBean(EmbeddedDefaults.class).ensure().block();
        if (stdio) {
            context.getBean(StdioServer.class).serveUntilInputEnds(System.in, protocolOut);
            context.close();
            System.exit(0);
        }
    }

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
              GPUBROKER_DATA_DIR      where all state lives (default ./data)
              GPUBROKER_AGENT_KEY     agent API key for --stdio
              GPUBROKER_ADMIN_TOKEN   admin token (default: generated into <data>/admin.token)

            Every setting is listed in the README (Configuration).""";
}
