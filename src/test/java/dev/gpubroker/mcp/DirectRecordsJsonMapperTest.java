package dev.gpubroker.mcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.json.TypeRef;
import io.modelcontextprotocol.json.jackson3.JacksonMcpJsonMapper;
import io.modelcontextprotocol.spec.McpSchema;
import tools.jackson.databind.json.JsonMapper;

/**
 * The direct conversions give what Jackson's would, for every message the SDK may hand them: the plain ones are built
 * straight from the parsed map, everything else is Jackson's to answer or refuse.
 */
class DirectRecordsJsonMapperTest {

    private static final TypeRef<HashMap<String, Object>> MAP = new TypeRef<>() {
    };
    private static final TypeRef<McpSchema.CallToolRequest> CALL = new TypeRef<>() {
    };

    private final McpJsonMapper jackson = new JacksonMcpJsonMapper(JsonMapper.builder().build());
    private final McpJsonMapper direct = new DirectRecordsJsonMapper(jackson);

    @ParameterizedTest
    @ValueSource(strings = {
            """
            {"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"job_status","arguments":{"jobId":"job_1"}}}""",
            """
            {"jsonrpc":"2.0","id":"a-1","method":"tools/call","params":{"name":"quote","arguments":{"gpu":"H100",\
            "count":2,"maxPrice":"2.50","regions":["us","eu"],"deep":{"x":[1,2.5,null,true]}},\
            "_meta":{"progressToken":"p-1"}}}""",
            """
            {"jsonrpc":"2.0","id":9007199254740993,"method":"tools/list"}""",
            """
            {"jsonrpc":"2.0","id":1,"method":"ping","params":{}}""",
            // What Jackson decides: another key, odd types, a refused id or version, array params.
            """
            {"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"},"extra":true}""",
            """
            {"jsonrpc":2,"id":1,"method":"tools/call"}""",
            """
            {"jsonrpc":" ","id":1,"method":"tools/call"}""",
            """
            {"jsonrpc":"2.0","id":1.5,"method":"tools/call"}""",
            """
            {"jsonrpc":"2.0","id":123456789012345678901234567890,"method":"tools/call"}""",
            """
            {"jsonrpc":"2.0","id":null,"method":"tools/call"}""",
            """
            {"jsonrpc":"2.0","id":1,"method":7}""",
            """
            {"jsonrpc":"2.0","id":1,"method":"tools/call","params":[1,2]}""",
            """
            {"jsonrpc":"2.0","id":1,"method":"tools/call","params":"text"}"""})
    void requestsAndToolCallsConvertAsJacksonConvertsThem(String message) throws Exception {
        Map<String, Object> parsed = jackson.readValue(message, MAP);

        Outcome expected = outcome(() -> jackson.convertValue(parsed, McpSchema.JSONRPCRequest.class));
        assertThat(outcome(() -> direct.convertValue(parsed, McpSchema.JSONRPCRequest.class))).isEqualTo(expected);

        Object params = parsed.get("params");
        if (params != null) {
            assertThat(outcome(() -> direct.convertValue(params, CALL)))
                    .isEqualTo(outcome(() -> jackson.convertValue(params, CALL)));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
            """
            {"name":"job_status","arguments":{"jobId":"job_1"}}""",
            """
            {"name":"account"}""",
            """
            {"name":"run","arguments":{"command":["sh","-c","echo"],"env":{"A":"b"}},"_meta":{"progressToken":3}}""",
            """
            {"arguments":{"jobId":"job_1"}}""",
            """
            {"name":null,"arguments":{}}""",
            """
            {"name":"x","arguments":"{\\"jobId\\":\\"job_1\\"}"}""",
            """
            {"name":"x","arguments":[1]}""",
            """
            {"name":"x","task":{"ttl":5}}""",
            """
            {"name":7}"""})
    void toolCallParamsConvertAsJacksonConvertsThem(String params) throws Exception {
        Map<String, Object> parsed = jackson.readValue(params, MAP);

        assertThat(outcome(() -> direct.convertValue(parsed, CALL))).isEqualTo(outcome(() -> jackson.convertValue(parsed, CALL)));
    }

    @Test
    void aPlainToolCallIsBuiltFromTheParsedMapWithoutJacksonsRoundTrip() throws Exception {
        Map<String, Object> parsed = jackson.readValue("""
                {"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"job_status","arguments":{"jobId":"j"}}}""",
                MAP);

        McpSchema.JSONRPCRequest request = direct.convertValue(parsed, McpSchema.JSONRPCRequest.class);
        McpSchema.CallToolRequest call = direct.convertValue(request.params(), CALL);

        // Jackson's conversion would have copied both: the same objects show the direct path was taken.
        assertThat(request.params()).isSameAs(parsed.get("params"));
        assertThat(call.arguments()).isSameAs(((Map<?, ?>) parsed.get("params")).get("arguments"));
        assertThat(call).isEqualTo(new McpSchema.CallToolRequest("job_status", Map.of("jobId", "j"), null));
    }

    @Test
    void everythingElseIsJacksons() throws Exception {
        String json = "{\"name\":\"x\",\"arguments\":{\"a\":[1,2]}}";

        assertThat(direct.readValue(json, MAP)).isEqualTo(jackson.readValue(json, MAP));
        assertThat(direct.readValue(json.getBytes(), Map.class)).isEqualTo(jackson.readValue(json.getBytes(), Map.class));
        assertThat(direct.writeValueAsString(List.of(1, "a"))).isEqualTo(jackson.writeValueAsString(List.of(1, "a")));
        assertThat(direct.convertValue(Map.of("type", "text", "text", "hi"), McpSchema.TextContent.class))
                .isEqualTo(jackson.convertValue(Map.of("type", "text", "text", "hi"), McpSchema.TextContent.class));
    }

    /** What a conversion gave: its value, or the kind of failure and its message. */
    private record Outcome(Object value, Class<?> failure, String message) {
    }

    private static Outcome outcome(java.util.function.Supplier<Object> conversion) {
        Throwable failed = catchThrowable(() -> conversion.get());
        if (failed != null) {
            return new Outcome(null, failed.getClass(), failed.getMessage());
        }
        return new Outcome(conversion.get(), null, null);
    }
}
