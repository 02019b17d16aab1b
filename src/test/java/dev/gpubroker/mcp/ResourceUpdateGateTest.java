package dev.gpubroker.mcp;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.Test;

import io.modelcontextprotocol.common.McpTransportContext;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpStreamableServerSession;
import io.modelcontextprotocol.spec.McpStreamableServerTransportProvider;

import dev.gpubroker.identity.Agent;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** A job's update notification reaches a session only when the session's agent owns the job. */
class ResourceUpdateGateTest {

    private static final String UPDATED = McpSchema.METHOD_NOTIFICATION_RESOURCES_UPDATED;

    private final List<String> delivered = new CopyOnWriteArrayList<>();
    private final Map<String, String> agentOfSession = Map.of("session-a", "agt_a", "session-b", "agt_b");
    private final Map<String, String> ownerOfUri = Map.of("gpubroker://jobs/job_a", "agt_a");

    private final McpStreamableServerTransportProvider gated = new ResourceUpdateGate(callers(),
            (agentId, uri) -> Mono.just(agentId.equals(ownerOfUri.get(uri)))).around(recordingTransport());

    @Test
    void theJobsOwnSessionHearsOfItsChange() {
        StepVerifier.create(gated.notifyClient("session-a", UPDATED, updated("gpubroker://jobs/job_a"))).verifyComplete();

        assertThat(delivered).containsExactly("session-a " + UPDATED);
    }

    @Test
    void anotherAgentsSessionHearsNothingEvenWhenTheSdkThinksItSubscribed() {
        StepVerifier.create(gated.notifyClient("session-b", UPDATED, updated("gpubroker://jobs/job_a"))).verifyComplete();
        StepVerifier.create(gated.notifyClient("session-unknown", UPDATED, updated("gpubroker://jobs/job_a")))
                .verifyComplete();
        StepVerifier.create(gated.notifyClient("session-a", UPDATED, updated("file:///etc/passwd"))).verifyComplete();

        assertThat(delivered).isEmpty();
    }

    @Test
    void otherMessagesPassUntouched() {
        StepVerifier.create(gated.notifyClient("session-b", McpSchema.METHOD_NOTIFICATION_PROGRESS, Map.of()))
                .verifyComplete();

        assertThat(delivered).containsExactly("session-b " + McpSchema.METHOD_NOTIFICATION_PROGRESS);
    }

    private static McpSchema.ResourcesUpdatedNotification updated(String uri) {
        return new McpSchema.ResourcesUpdatedNotification(uri);
    }

    private CallerResolver callers() {
        return new CallerResolver() {
            @Override
            public Mono<Agent> resolve(McpTransportContext context) {
                return Mono.empty();
            }

            @Override
            public Mono<Agent> resolveSession(String sessionId) {
                return Mono.justOrEmpty(agentOfSession.get(sessionId)).map(ResourceUpdateGateTest::agent);
            }

            @Override
            public String unauthenticatedHint() {
                return "";
            }
        };
    }

    private static Agent agent(String agentId) {
        return new Agent(agentId, agentId, "0x" + "00".repeat(20), Agent.WalletCustody.CUSTODIAL, Instant.EPOCH);
    }

    private McpStreamableServerTransportProvider recordingTransport() {
        return new McpStreamableServerTransportProvider() {
            @Override
            public void setSessionFactory(McpStreamableServerSession.Factory sessionFactory) {
            }

            @Override
            public Mono<Void> notifyClients(String method, Object params) {
                return Mono.empty();
            }

            @Override
            public Mono<Void> notifyClient(String sessionId, String method, Object params) {
                return Mono.fromRunnable(() -> delivered.add(sessionId + " " + method));
            }

            @Override
            public Mono<Void> closeGracefully() {
                return Mono.empty();
            }
        };
    }
}
