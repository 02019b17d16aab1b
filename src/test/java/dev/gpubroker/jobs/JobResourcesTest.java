package dev.gpubroker.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.TestPropertySource;

import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.spec.McpSchema;

import dev.gpubroker.identity.NewAgent;
import dev.gpubroker.money.Usdc;
import dev.gpubroker.payments.chain.PaymentChain;
import dev.gpubroker.support.BrokerIntegrationTest;
import dev.gpubroker.support.RawMcp;

/** A job as a subscribable MCP resource: the client is told of every change without polling. */
@TestPropertySource(properties = "gpubroker.market.demo-catalog=classpath:catalogs/jobs.yml")
class JobResourcesTest extends BrokerIntegrationTest {

    @Autowired
    PaymentChain paymentChain;

    @Test
    void aSubscribedClientIsToldOfEachChangeOfItsJob() throws Exception {
        NewAgent agent = newAgent("subscriber");
        paymentChain.mintTestUsdc(agent.agent().walletAddress(), Usdc.parse("50.00"));
        List<String> updates = new CopyOnWriteArrayList<>();
        McpSyncClient client = McpClient.sync(HttpClientStreamableHttpTransport.builder(baseUri().toString())
                        .endpoint("/mcp")
                        .requestBuilder(HttpRequest.newBuilder().header("Authorization", "Bearer " + agent.apiKey()))
                        .build())
                .requestTimeout(Duration.ofSeconds(30))
                .resourcesUpdateConsumer(contents -> contents.forEach(content ->
                        updates.add(((McpSchema.TextResourceContents) content).text())))
                .build();
        client.initialize();
        try {
            assertThat(client.listResourceTemplates().resourceTemplates()).extracting(McpSchema.ResourceTemplate::uriTemplate)
                    .contains("gpubroker://jobs/{jobId}", "gpubroker://jobs/{jobId}/logs");
            String quoteId = (String) quotes(client.callTool(new McpSchema.CallToolRequest("quote", Map.of("gpu", "H100",
                    "durationMinutes", 60, "providers", List.of("demo-steady"))))).getFirst().get("quoteId");
            String reservationId = (String) output(client.callTool(new McpSchema.CallToolRequest("reserve",
                    Map.of("quoteId", quoteId, "idempotencyKey", "sub-reserve-1")))).get("reservationId");
            output(client.callTool(new McpSchema.CallToolRequest("pay", Map.of("reservationId", reservationId,
                    "idempotencyKey", "sub-pay-1"))));
            String jobId = (String) output(client.callTool(new McpSchema.CallToolRequest("run", Map.of("reservationId",
                    reservationId, "idempotencyKey", "sub-run-1", "command", List.of("sh", "-c", "sleep 1; echo finished")))))
                    .get("jobId");
            client.subscribeResource(new McpSchema.SubscribeRequest("gpubroker://jobs/" + jobId));

            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (updates.stream().noneMatch(update -> update.contains("\"status\":\"completed\"")
                    && update.contains("settlement_submitted"))) {
                assertThat(System.nanoTime()).as("updates so far: " + updates).isLessThan(deadline);
                Thread.sleep(100);
            }
            String status = ((McpSchema.TextResourceContents) client.readResource(
                    new McpSchema.ReadResourceRequest("gpubroker://jobs/" + jobId)).contents().getFirst()).text();
            assertThat(status).contains(jobId).contains("\"gpuSeconds\"");
            String logs = ((McpSchema.TextResourceContents) client.readResource(
                    new McpSchema.ReadResourceRequest("gpubroker://jobs/" + jobId + "/logs")).contents().getFirst()).text();
            assertThat(logs).contains("finished");

            McpSyncClient intruder = client(newAgent("peeker").apiKey());
            assertThatThrownBy(() -> intruder.readResource(new McpSchema.ReadResourceRequest("gpubroker://jobs/" + jobId)))
                    .hasMessageContaining("not found");
        } finally {
            client.closeGracefully();
        }
    }

    @Test
    void onlyAJobsOwnAgentMaySubscribeToItAndNoOtherSessionHearsOfItsChanges() throws Exception {
        NewAgent owner = newAgent("owner-subscriber");
        paymentChain.mintTestUsdc(owner.agent().walletAddress(), Usdc.parse("50.00"));
        List<String> ownerUpdates = new CopyOnWriteArrayList<>();
        McpSyncClient client = McpClient.sync(HttpClientStreamableHttpTransport.builder(baseUri().toString())
                        .endpoint("/mcp")
                        .requestBuilder(HttpRequest.newBuilder().header("Authorization", "Bearer " + owner.apiKey()))
                        .build())
                .requestTimeout(Duration.ofSeconds(30))
                .resourcesUpdateConsumer(contents -> contents.forEach(content ->
                        ownerUpdates.add(((McpSchema.TextResourceContents) content).text())))
                .build();
        client.initialize();
        try (RawMcp intruder = new RawMcp(baseUri(), newAgent("eavesdropper").apiKey(), json, Duration.ofSeconds(10))
                .initialize(); RawMcp.Listener heard = intruder.listen()) {
            String jobId = startJob(client, "watched");
            String uri = "gpubroker://jobs/" + jobId;

            for (String stolen : List.of(uri, uri + "/logs", "gpubroker://jobs/job_doesnotexist", "file:///etc/passwd",
                    "gpubroker://jobs/" + jobId + "/../" + jobId)) {
                RawMcp.Answer refused = intruder.post("{\"jsonrpc\":\"2.0\",\"id\":\"s-1\",\"method\":\"resources/subscribe\","
                        + "\"params\":{\"uri\":" + json.writeValueAsString(stolen) + "}}");
                assertThat(refused.status()).as(stolen).isEqualTo(200);
                assertThat(refused.message().path("error").path("code").asInt()).as(stolen).isEqualTo(-32002);
                assertThat(refused.message().path("error").path("data").path("field").asString()).isEqualTo("params.uri");
            }
            client.subscribeResource(new McpSchema.SubscribeRequest(uri));

            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (ownerUpdates.stream().noneMatch(update -> update.contains("settlement_submitted"))) {
                assertThat(System.nanoTime()).as("updates so far: " + ownerUpdates).isLessThan(deadline);
                Thread.sleep(100);
            }
            assertThat(heard.messages()).as("the other agent's session heard nothing of the job")
                    .noneMatch(message -> message.toString().contains(jobId));
        } finally {
            client.closeGracefully();
        }
    }

    @Test
    void runWithAProgressTokenReportsEachStateChangeOfTheJobToThatClientOnly() throws Exception {
        NewAgent agent = newAgent("watcher");
        paymentChain.mintTestUsdc(agent.agent().walletAddress(), Usdc.parse("50.00"));
        List<McpSchema.ProgressNotification> progress = new CopyOnWriteArrayList<>();
        List<McpSchema.ProgressNotification> elsewhere = new CopyOnWriteArrayList<>();
        McpSyncClient client = progressClient(agent.apiKey(), progress);
        McpSyncClient otherSession = progressClient(agent.apiKey(), elsewhere);
        try {
            String quoteId = (String) quotes(client.callTool(new McpSchema.CallToolRequest("quote", Map.of("gpu", "H100",
                    "durationMinutes", 60, "providers", List.of("demo-steady"))))).getFirst().get("quoteId");
            String reservationId = (String) output(client.callTool(new McpSchema.CallToolRequest("reserve",
                    Map.of("quoteId", quoteId, "idempotencyKey", "progress-reserve-1")))).get("reservationId");
            output(client.callTool(new McpSchema.CallToolRequest("pay", Map.of("reservationId", reservationId,
                    "idempotencyKey", "progress-pay-1"))));

            Map<String, Object> started = output(client.callTool(McpSchema.CallToolRequest.builder("run")
                    .arguments(Map.of("reservationId", reservationId, "idempotencyKey", "progress-run-1",
                            "command", List.of("sh", "-c", "sleep 1; echo finished")))
                    .progressToken("run-progress-1")
                    .build()));
            assertThat(started).containsEntry("status", "launching");

            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (progress.stream().noneMatch(notification -> notification.total() != null)) {
                assertThat(System.nanoTime()).as("progress so far: " + progress).isLessThan(deadline);
                Thread.sleep(100);
            }
            assertThat(progress).allSatisfy(notification -> assertThat(notification.progressToken())
                    .isEqualTo("run-progress-1"));
            // Each notification carries its number, increasing as the job's story goes on. The client may receive the
            // first (sent on the call's own stream while the call was answered) after the second (sent on the
            // session's stream): the numbers, not the arrival order, tell the order.
            List<McpSchema.ProgressNotification> inOrder = progress.stream()
                    .sorted(java.util.Comparator.comparingDouble(McpSchema.ProgressNotification::progress)).toList();
            assertThat(inOrder).extracting(McpSchema.ProgressNotification::progress).doesNotHaveDuplicates()
                    .containsExactlyElementsOf(java.util.stream.IntStream.rangeClosed(1, inOrder.size())
                            .mapToObj(n -> (double) n).toList());
            assertThat(inOrder).extracting(notification -> notification.message().substring(0,
                            notification.message().indexOf(':')))
                    .containsSubsequence("launching", "launched", "running", "completed", "settlement_submitted");
            assertThat(inOrder.getLast().total()).as("the last report says it is the last").isEqualTo(inOrder.getLast().progress());
            assertThat(elsewhere).as("another session of the same agent hears nothing of this call").isEmpty();
        } finally {
            client.closeGracefully();
            otherSession.closeGracefully();
        }
    }

    /** Quote, reserve, pay and run a one-second job; its jobId. */
    private String startJob(McpSyncClient client, String key) {
        String quoteId = (String) quotes(client.callTool(new McpSchema.CallToolRequest("quote", Map.of("gpu", "H100",
                "durationMinutes", 60, "providers", List.of("demo-steady"))))).getFirst().get("quoteId");
        String reservationId = (String) output(client.callTool(new McpSchema.CallToolRequest("reserve",
                Map.of("quoteId", quoteId, "idempotencyKey", key + "-reserve-1")))).get("reservationId");
        output(client.callTool(new McpSchema.CallToolRequest("pay", Map.of("reservationId", reservationId,
                "idempotencyKey", key + "-pay-1"))));
        return (String) output(client.callTool(new McpSchema.CallToolRequest("run", Map.of("reservationId",
                reservationId, "idempotencyKey", key + "-run-1", "command", List.of("sh", "-c", "sleep 1; echo finished")))))
                .get("jobId");
    }

    private McpSyncClient progressClient(String apiKey, List<McpSchema.ProgressNotification> sink) {
        McpSyncClient client = McpClient.sync(HttpClientStreamableHttpTransport.builder(baseUri().toString())
                        .endpoint("/mcp")
                        .requestBuilder(HttpRequest.newBuilder().header("Authorization", "Bearer " + apiKey))
                        .build())
                .requestTimeout(Duration.ofSeconds(30))
                .progressConsumer(sink::add)
                .build();
        client.initialize();
        return client;
    }
}
