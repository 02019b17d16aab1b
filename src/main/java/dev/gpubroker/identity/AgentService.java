package dev.gpubroker.identity;

import java.time.Clock;
import java.util.UUID;
import java.util.regex.Pattern;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;

import org.web3j.crypto.Keys;

import dev.gpubroker.wallet.WalletStore;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/** Creates agents and recognises them by their API key. */
@Service
public class AgentService {

    private static final Logger log = LoggerFactory.getLogger(AgentService.class);
    private static final Pattern WALLET_ADDRESS = Pattern.compile("0x[0-9a-fA-F]{40}");
    private static final int NAME_LENGTH_MAX = 100;

    private final AgentRepository agents;
    private final WalletStore wallets;
    private final Clock clock;
    private final KnownAgents known = new KnownAgents();

    public AgentService(AgentRepository agents, WalletStore wallets, Clock clock) {
        this.agents = agents;
        this.wallets = wallets;
        this.clock = clock;
    }

    /**
     * Creates an agent. {@code walletAddress} is an address the agent controls (it will sign its own payments), or
     * null: then the server creates a custodial wallet for it and signs for it.
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
            String agentId = "agt_" + UUID.randomUUID().toString().replace("-", "");
            Mono<Agent> agentWithWallet = walletAddress != null
                    ? Mono.just(new Agent(agentId, name.strip(), Keys.toChecksumAddress(walletAddress),
                            Agent.WalletCustody.EXTERNAL, clock.instant()))
                    // Creating a keystore is file I/O and scrypt: off the event loop.
                    : Mono.fromCallable(() -> new Agent(agentId, name.strip(),
                                    Keys.toChecksumAddress(wallets.create(Agent.walletLabelOf(agentId)).getAddress()),
                                    Agent.WalletCustody.CUSTODIAL, clock.instant()))
                            .subscribeOn(Schedulers.boundedElastic());
            return agentWithWallet.flatMap(agent -> agents.insert(agent, ApiKeys.hash(apiKey))
                    .doOnSuccess(ignored -> log.info("Agent {} created ({}, {} wallet {})", agent.agentId(), agent.name(),
                            agent.custody().name().toLowerCase(java.util.Locale.ROOT), agent.walletAddress()))
                    .thenReturn(new NewAgent(agent, apiKey)));
        });
    }

    /**
     * The agent this key belongs to, or empty when the key is unknown or malformed. Every request asks: a key seen in
     * the last {@link KnownAgents#KEY_TTL} is recognised without reading the database.
     */
    public Mono<Agent> authenticate(String apiKey) {
        if (!ApiKeys.isPlausible(apiKey)) {
            return Mono.empty();
        }
        String keyHash = ApiKeys.hash(apiKey);
        Agent recognised = known.byKeyHash(keyHash);
        if (recognised != null) {
            return Mono.just(recognised);
        }
        long rotationsBefore = known.rotations();
        return agents.findByApiKeyHash(keyHash).doOnNext(agent -> known.rememberKey(keyHash, agent, rotationsBefore));
    }

    public Mono<Agent> find(String agentId) {
        Agent recognised = known.byId(agentId);
        return recognised != null ? Mono.just(recognised) : agents.findById(agentId).doOnNext(known::remember);
    }

    public reactor.core.publisher.Flux<Agent> list(int limit, int offset) {
        return agents.list(limit, offset);
    }

    /** A new API key for the agent; the old one stops working at once. Answers empty for an unknown agent. */
    public Mono<NewAgent> rotateKey(String agentId) {
        String apiKey = ApiKeys.newKey();
        return agents.replaceKeyHash(agentId, ApiKeys.hash(apiKey))
                .doOnNext(replaced -> known.forgetKeysOf(agentId))
                .filter(Boolean::booleanValue)
                .flatMap(rotated -> agents.findById(agentId))
                .doOnNext(agent -> log.info("API key of agent {} rotated", agentId))
                .map(agent -> new NewAgent(agent, apiKey));
    }

    public Mono<Long> count() {
        return agents.count();
    }
}
