package dev.gpubroker.market.demo;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.env.YamlPropertySourceLoader;
import org.springframework.core.env.PropertySource;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.io.Resource;
import org.springframework.core.io.ResourceLoader;
import org.springframework.stereotype.Component;

import dev.gpubroker.config.BrokerProperties;
import dev.gpubroker.market.ComputeProvider;
import dev.gpubroker.market.HostedCapacity;
import dev.gpubroker.market.ProviderSource;
import dev.gpubroker.market.process.JobSandbox;

/**
 * The demo marketplace: a simulated market, clearly named as such (every provider is called {@code demo-*}), for
 * trying the product and for tests. Its offers and capacity are real data in the database, so holds really
 * decrement capacity and concurrent reservations cannot oversell.
 */
@Component
@ConditionalOnProperty(name = "gpubroker.market.demo-enabled", havingValue = "true", matchIfMissing = true)
public class DemoMarketplace implements ProviderSource {

    private static final Logger log = LoggerFactory.getLogger(DemoMarketplace.class);

    private final List<ComputeProvider> providers;

    public DemoMarketplace(BrokerProperties properties, ResourceLoader resources, HostedCapacity capacity,
            JobSandbox sandbox, java.time.Clock clock) throws IOException {
        DemoCatalog catalog = load(resources.getResource(properties.market().demoCatalog()));
        List<ComputeProvider> built = new ArrayList<>();
        for (DemoCatalog.ProviderSpec spec : catalog.providers()) {
            built.add(new DemoProvider(DemoProviderSettings.from(spec), capacity,
                    properties.jobRecordsDir(), sandbox, clock));
        }
        this.providers = List.copyOf(built);
        log.info("Demo marketplace (simulated providers for demos and tests) loaded from {}: {} providers",
                properties.market().demoCatalog(), providers.size());
    }

    @Override
    public List<ComputeProvider> providers() {
        return providers;
    }

    static DemoCatalog load(Resource resource) throws IOException {
        if (!resource.exists()) {
            throw new IllegalStateException("demo marketplace catalog not found: " + resource.getDescription()
                    + " (set gpubroker.market.demo-catalog or gpubroker.market.demo-enabled=false)");
        }
        List<PropertySource<?>> sources = new YamlPropertySourceLoader().load("demo-marketplace", resource);
        StandardEnvironment environment = new StandardEnvironment();
        sources.forEach(environment.getPropertySources()::addFirst);
        return new Binder(ConfigurationPropertySources.get(environment))
                .bind("demo", DemoCatalog.class)
                .orElseThrow(() -> new IllegalStateException(
                        "demo marketplace catalog " + resource.getDescription() + " has no 'demo.providers' list"));
    }
}
