package dev.gpubroker.identity;

import java.time.Clock;
import java.util.UUID;
import java.util.regex.Pattern;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;

import dev.gpubroker.store.AgentRepository;
import reactor.core.publisher.Mono;

/** Creates agents and recognises them by their API key. */
@Service
public class AgentService {

    private static final Logger log = LoggerFactory.getLogger(AgentService.class);
    private static final Pattern WALLET_ADDRESS = Pattern.compile("0x[0-9a-fA-F]{40}");
    private static final int NAME_LENGTH_MAX = 100;

    private final AgentRepository agents;
    private final Clock clock;

    public AgentService(AgentRepository agents, Clock clock) {
        this.agents = agents;
        this.clock = clock;
    }

    /**
     * Creates an agent. {@code walletAddress} is an address the agent controls, or null (a custodial wallet comes
     * with the payments work).
     */
    public Mono<NewAgent> create(String name, String walletAddress) {
        return Mono.defer(() -> {
            if (name == null || name.isBlank() || name.length() > NAME_LENGTH_MAX) {
                return Mono.error(new InvalidAgentException("name", "name is required, 1 to " + NAME_LENGTH_MAX + " characters"));
            }
            if (walletAddress != null && !WALLET_ADDRESS.matcher(walletAddress).matches()) {
                return Mono.error(new InvalidAgentException("walletAddress",
                        "walletAddress is a 0x-prefixed 20-byte hex address, like 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"));
            }
            String apiKey = ApiKeys.newKey();
            Agent agent = new Agent("agt_" + UUID.randomUUID().toString().replace("-", ""), name.strip(), walletAddress,
                    clock.instant());
            return agents.insert(agent, ApiKeys.hash(apiKey))
                    .doOnSuccess(ignored -> log.info("Agent {} created ({})", agent.agentId(), agent.name()))
                    .thenReturn(new NewAgent(agent, apiKey));
        });
    }

    /** The agent this key belongs to, or empty when the key is unknown or malformed. */
    public Mono<Agent> authenticate(String apiKey) {
        if (!ApiKeys.isPlausible(apiKey)) {
            return Mono.empty();
        }
        return agents.findByApiKeyHash(ApiKeys.hash(apiKey));
    }

    public Mono<Agent> find(String agentId) {
        return agents.findById(agentId);
    }

    public Mono<Long> count() {
        return agents.count();
    }
}
