package dev.gpubroker.platform.database;

import java.util.List;

import org.springframework.stereotype.Component;

import dev.gpubroker.config.BrokerProperties;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/** Makes the {@link ReadThroughCache}s, with the configured expiry and a hit and a miss counter each. */
@Component
public class ReadCaches {

    private final TableChanges changes;
    private final BrokerProperties properties;
    private final MeterRegistry registry;

    ReadCaches(TableChanges changes, BrokerProperties properties, MeterRegistry registry) {
        this.changes = changes;
        this.properties = properties;
        this.registry = registry;
    }

    /**
     * A cache named {@code name} (its metric's label) of at most {@code maxEntries} answers, read from {@code tables}:
     * every table the read's SQL names, since a write to any of them must make a kept answer stale.
     */
    public <K, V> ReadThroughCache<K, V> create(String name, int maxEntries, List<String> tables) {
        return new ReadThroughCache<>(changes.watch(tables), properties.database().readCacheTtl(), maxEntries,
                counter(name, "hit"), counter(name, "miss"));
    }

    private Counter counter(String name, String result) {
        return Counter.builder("gpubroker.read.cache").tag("cache", name).tag("result", result)
                .description("reads answered from memory (hit) or from the database (miss)").register(registry);
    }
}
