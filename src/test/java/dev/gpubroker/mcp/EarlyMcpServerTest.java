package dev.gpubroker.mcp;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeoutException;

import org.junit.jupiter.api.Test;

import dev.gpubroker.config.StartupRefusal;

/** What a tool call answers while the application behind the early stdio server is not there to handle it. */
class EarlyMcpServerTest {

    @Test
    void aCallThatOutwaitsTheStartAnswersServerStartingWithARetry() {
        ToolError error = EarlyMcpServer.notServing(new TimeoutException());

        assertThat(error.code()).isEqualTo("server_starting");
        assertThat(error.nextStep()).startsWith("retry in a few seconds");
    }

    @Test
    void aRefusedStartAnswersServerUnavailableWithTheRefusalFoundThroughSpringsWrapping() {
        StartupRefusal refusal = new StartupRefusal("/data/wallets/relayer.json is missing");
        ToolError error = EarlyMcpServer.notServing(new IllegalStateException("Error creating bean 'paymentChain'",
                new RuntimeException(refusal)));

        assertThat(error.code()).isEqualTo("server_unavailable");
        assertThat(error.message()).isEqualTo("GPU Broker could not start: /data/wallets/relayer.json is missing");
        assertThat(error.nextStep()).contains("restart this MCP server").contains("nothing was charged");
    }

    @Test
    void anUnexpectedStartFailureIsNotDetailedToTheCaller() {
        ToolError error = EarlyMcpServer.notServing(new IllegalStateException("secret detail from a stack"));

        assertThat(error.code()).isEqualTo("server_unavailable");
        assertThat(error.message()).doesNotContain("secret detail").contains("its log, on stderr");
    }
}
