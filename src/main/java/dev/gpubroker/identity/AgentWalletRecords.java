package dev.gpubroker.identity;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.springframework.stereotype.Component;

import dev.gpubroker.wallet.RecordedWallets;

/**
 * The agents' wallets as the database records them, for the chain's start-up check ({@code ChainKeys}): it runs once,
 * before anything is served, so it blocks.
 */
@Component
class AgentWalletRecords implements RecordedWallets {

    private static final int PAGE_SIZE = 500;
    private static final Duration QUERY_TIMEOUT = Duration.ofSeconds(30);

    private final AgentRepository agents;

    AgentWalletRecords(AgentRepository agents) {
        this.agents = agents;
    }

    @Override
    public boolean anyAgent() {
        Long count = agents.count().block(QUERY_TIMEOUT);
        return count != null && count > 0;
    }

    @Override
    public List<Custodial> custodial() {
        List<Custodial> custodial = new ArrayList<>();
        for (int offset = 0; ; offset += PAGE_SIZE) {
            List<Agent> page = agents.list(PAGE_SIZE, offset).collectList().block(QUERY_TIMEOUT);
            if (page == null || page.isEmpty()) {
                return custodial;
            }
            for (Agent agent : page) {
                if (agent.custody() == Agent.WalletCustody.CUSTODIAL) {
                    custodial.add(new Custodial(agent.agentId(), agent.walletLabel(), agent.walletAddress()));
                }
            }
            if (page.size() < PAGE_SIZE) {
                return custodial;
            }
        }
    }
}
