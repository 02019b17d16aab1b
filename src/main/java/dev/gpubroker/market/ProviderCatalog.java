package dev.gpubroker.market;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/** Every enabled provider by name. Two providers with one name are a configuration error, refused at start. */
@Component
public class ProviderCatalog {

    private static final Logger log = LoggerFactory.getLogger(ProviderCatalog.class);

    private final Map<String, ComputeProvider> providersByName = new LinkedHashMap<>();
    private final List<ProviderConfiguration> configuration;

    public ProviderCatalog(List<ProviderSource> sources) {
        for (ProviderSource source : sources) {
            for (ComputeProvider provider : source.providers()) {
                if (providersByName.putIfAbsent(provider.name(), provider) != null) {
                    throw new IllegalStateException("two providers are named " + provider.name());
                }
            }
        }
        this.configuration = sources.stream().flatMap(source -> source.configuration().stream()).toList();
        log.info("Providers enabled: {}", providersByName.keySet());
    }

    /** Every provider this server could offer, enabled or not (and how to enable it). */
    public List<ProviderConfiguration> configuration() {
        return configuration;
    }

    public List<ComputeProvider> all() {
        return List.copyOf(providersByName.values());
    }

    public Optional<ComputeProvider> find(String name) {
        return Optional.ofNullable(providersByName.get(name));
    }
}
