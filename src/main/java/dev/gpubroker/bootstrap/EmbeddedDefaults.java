package dev.gpubroker.bootstrap;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

import dev.gpubroker.config.BrokerProperties;
import dev.gpubroker.config.SecretFiles;
import dev.gpubroker.identity.AgentService;
import dev.gpubroker.money.Usdc;
import dev.gpubroker.payments.chain.PaymentChain;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * What a first start with embedded defaults sets up besides the admin token ({@link dev.gpubroker.admin.AdminToken}):
 * while there is no agent yet, a demo agent with a custodial wallet (given 1,000 test USDC on the embedded chain) whose key goes to
 * {@code <data>/demo-agent.key}, mode 600; the log says where it is, never what is in it.
 */
@Component
public class EmbeddedDefaults {

    public static final String DEMO_AGENT_KEY_FILE = "demo-agent.key";
    public static final String DEMO_AGENT_NAME = "demo-agent";
    private static final Logger log = LoggerFactory.getLogger(EmbeddedDefaults.class);

    private final BrokerProperties properties;
    private final AgentService agents;

    private final PaymentChain chain;

    public EmbeddedDefaults(BrokerProperties properties, AgentService agents, PaymentChain chain) {
        this.properties = properties;
        this.agents = agents;
        this.chain = chain;
    }

    public Mono<Void> ensure() {
        return properties.embeddedDefaults() ? ensureDemoAgent() : Mono.empty();
    }

    private Mono<Void> ensureDemoAgent() {
        Path keyFile = properties.dataDir().resolve(DEMO_AGENT_KEY_FILE).toAbsolutePath().normalize();
        return agents.count()
                .filter(count -> count == 0)
                .flatMap(none -> agents.create(DEMO_AGENT_NAME, null))
                .flatMap(created -> Mono.fromRunnable(() -> {
                    try {
                        SecretFiles.writeOwnerOnly(keyFile, created.apiKey());
                    } catch (IOException e) {
                        throw new UncheckedIOException("could not write the demo agent key to " + keyFile, e);
                    }
                    log.info("Demo agent {} created; its API key is in {} (mode 600)", created.agent().agentId(), keyFile);
                    fundOnDevelopmentChain(created.agent().walletAddress());
                }).subscribeOn(Schedulers.boundedElastic()))
                .then();
    }

    /** On the embedded chain the demo agent starts with test USDC, so that every tool does real work at once. */
    private void fundOnDevelopmentChain(String walletAddress) {
        if (!chain.isDevelopmentChain()) {
            return;
        }
        try {
            chain.mintTestUsdc(walletAddress, Usdc.parse(properties.chain().demoAgentFunding()));
        } catch (IOException e) {
            throw new UncheckedIOException("could not fund the demo agent on the embedded chain", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while funding the demo agent", e);
        }
    }
}
