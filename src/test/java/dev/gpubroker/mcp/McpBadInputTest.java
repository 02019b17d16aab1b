package dev.gpubroker.mcp;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.gpubroker.support.BrokerIntegrationTest;
import dev.gpubroker.support.RawMcp;
import dev.gpubroker.support.RawMcp.Answer;
import tools.jackson.databind.JsonNode;

/**
 * What an agent that sends broken messages gets over /mcp: a JSON-RPC error or a tool error that says what was wrong
 * and where, at once, never a 5xx, a Java class name, a stack trace or a stream left open.
 */
class McpBadInputTest extends BrokerIntegrationTest {

    private static final Duration BOUND = Duration.ofSeconds(10);

    private RawMcp mcp;

    @BeforeEach
    void openSession() {
        mcp = new RawMcp(baseUri(), newAgent("sloppy-raw").apiKey(), json, BOUND).initialize();
    }

    @AfterEach
    void closeSession() {
        mcp.close();
    }

    @Test
    void aBodyThatIsNotJsonIsAParseError() {
        Answer answer = mcp.post("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"");

        assertThat(answer.status()).isEqualTo(400);
        assertClean(answer);
        assertThat(answer.message().path("error").path("code").asInt()).isEqualTo(-32700);
        assertThat(answer.message().path("id").isNull()).isTrue();
    }

    @Test
    void aNullBodyAnArrayAndAMessageWithoutMethodAreInvalidRequests() {
        for (String body : new String[] {"null", "", "[]", "42", "\"text\"", "{}", "{\"jsonrpc\":\"2.0\",\"id\":1}",
                "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}", "{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"ping\"}",
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":42}",
                "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]"}) {
            Answer answer = mcp.post(body);

            assertThat(answer.status()).as(body).isEqualTo(400);
            assertClean(answer);
            assertThat(answer.message().path("error").path("code").asInt()).as(body).isEqualTo(-32600);
        }
    }

    @Test
    void toolsCallWithoutParamsOrWithArgumentsThatAreNotAnObjectIsInvalidParamsNamingTheField() {
        Answer noParams = mcp.post("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\"}");
        Answer array = mcp.callTool(8, "quote", "[\"H100\", 60]");
        Answer noName = mcp.post("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\",\"params\":{\"arguments\":{}}}");
        Answer paramsArray = mcp.post("{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"tools/call\",\"params\":[1,2]}");

        assertInvalidParams(noParams, 7, "params");
        assertInvalidParams(array, 8, "params.arguments");
        assertInvalidParams(noName, 9, "params.name");
        assertInvalidParams(paramsArray, 10, "params");
    }

    @Test
    void anUnknownMethodIsAnsweredAndTheStreamClosed() {
        Answer answer = mcp.post("{\"jsonrpc\":\"2.0\",\"id\":\"u-1\",\"method\":\"prompts/list\"}");
        Answer invented = mcp.post("{\"jsonrpc\":\"2.0\",\"id\":\"u-2\",\"method\":\"gpubroker/steal\",\"params\":{}}");

        for (Answer each : new Answer[] {answer, invented}) {
            assertThat(each.timedOut()).as("answered within " + BOUND).isFalse();
            assertThat(each.status()).isEqualTo(200);
            assertClean(each);
            assertThat(each.message().path("error").path("code").asInt()).isEqualTo(-32601);
        }
        assertThat(answer.message().path("id").asString()).isEqualTo("u-1");
    }

    @Test
    void aBodyOverTheLimitIsRefusedWith413() {
        byte[] huge = new byte[300 * 1024];
        Arrays.fill(huge, (byte) ' ');
        byte[] prefix = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{}} ".getBytes(StandardCharsets.UTF_8);
        System.arraycopy(prefix, 0, huge, 0, prefix.length);

        Answer answer = mcp.post(huge);

        assertThat(answer.status()).isEqualTo(413);
        assertClean(answer);
        assertThat(answer.message().path("error").path("message").asString()).contains("262144");
    }

    @Test
    void hugeAndOddNumbersAreInvalidArgumentsNamingTheField() {
        assertInvalidArgument(mcp.callTool(1, "quote", "{\"gpu\":\"H100\",\"durationMinutes\":1e400}"), "durationMinutes");
        assertInvalidArgument(mcp.callTool(2, "quote",
                "{\"gpu\":\"H100\",\"durationMinutes\":123456789012345678901234567890}"), "durationMinutes");
        assertInvalidArgument(mcp.callTool(3, "quote", "{\"gpu\":\"H100\",\"durationMinutes\":60.5}"), "durationMinutes");
        assertInvalidArgument(mcp.callTool(4, "quote", "{\"gpu\":\"H100\",\"durationMinutes\":-1e-400}"), "durationMinutes");
        assertInvalidArgument(mcp.callTool(5, "job_logs", "{\"jobId\":\"job_x\",\"limit\":9223372036854775808}"), "limit");
        assertInvalidArgument(mcp.callTool(6, "pay", "{\"reservationId\":\"res_x\",\"idempotencyKey\":\"pay-key-0001\","
                + "\"signature\":\"0x" + "ab".repeat(65) + "\",\"authorization\":{\"from\":\"0x" + "11".repeat(20)
                + "\",\"to\":\"0x" + "22".repeat(20) + "\",\"value\":\"1\",\"validAfter\":1e20,\"validBefore\":\"9999999999\","
                + "\"nonce\":\"0x" + "33".repeat(32) + "\"}}"), "authorization.validAfter");
        assertInvalidArgument(mcp.callTool(7, "quote", "{\"gpu\":\"H100\",\"durationMinutes\":60,\"minReliability\":1e400}"),
                "minReliability");
    }

    private void assertInvalidParams(Answer answer, int id, String field) {
        assertThat(answer.timedOut()).isFalse();
        assertThat(answer.status()).as(answer.body()).isEqualTo(200);
        assertClean(answer);
        JsonNode error = answer.message().path("error");
        assertThat(error.path("code").asInt()).as(answer.body()).isEqualTo(-32602);
        assertThat(error.path("data").path("field").asString()).as(answer.body()).isEqualTo(field);
        assertThat(answer.message().path("id").asInt()).isEqualTo(id);
    }

    private void assertInvalidArgument(Answer answer, String field) {
        assertThat(answer.timedOut()).isFalse();
        assertThat(answer.status()).as(answer.body()).isEqualTo(200);
        assertClean(answer);
        JsonNode result = answer.message().path("result");
        assertThat(result.path("isError").asBoolean()).as(answer.body()).isTrue();
        Map<String, Object> error = json.readValue(result.path("content").path(0).path("text").asString(),
                new tools.jackson.core.type.TypeReference<Map<String, Map<String, Object>>>() { }).get("error");
        assertThat(error).as(answer.body()).containsEntry("code", "invalid_argument").containsEntry("field", field);
    }

    /** No 5xx, no Java in the body, and a JSON-RPC message to read. */
    static void assertClean(Answer answer) {
        assertThat(answer.status()).as(answer.body()).isBetween(200, 499);
        assertThat(answer.body()).doesNotContain("Exception").doesNotContain("\tat ").doesNotContain("java.")
                .doesNotContain("stackTrace").doesNotContain("tools.jackson").doesNotContain("io.modelcontextprotocol");
        assertThat(answer.message()).as("a JSON-RPC message in " + answer.body()).isNotNull();
        assertThat(answer.message().path("jsonrpc").asString()).isEqualTo("2.0");
    }
}
