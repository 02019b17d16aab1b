package dev.gpubroker.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Everything a deployment can set under {@code gpubroker.*}; each value has an embedded default so that
 * {@code mvn spring-boot:run} works on a new machine. docs/configuration.md lists them.
 */
@ConfigurationProperties("gpubroker")
public record BrokerProperties(
        @DefaultValue("./data") Path dataDir,
        @DefaultValue("true") boolean embeddedDefaults,
        @DefaultValue Quotes quotes,
        @DefaultValue Reservations reservations,
        @DefaultValue Market market,
        @DefaultValue Http http,
        @DefaultValue Database database) {

    public record Quotes(
            @DefaultValue("60s") Duration ttl,
            @DefaultValue("20") int maxPerAnswer,
            @DefaultValue("1.5") double failurePenaltyFactor) {
    }

    public record Reservations(
            @DefaultValue("10m") Duration holdTtl,
            @DefaultValue("1s") Duration expirySweepInterval,
            @DefaultValue("30s") Duration abandonedHoldAfter,
            @DefaultValue("100") int maxOpenPerAgent) {
    }

    public record Market(
            @DefaultValue("3s") Duration providerTimeout,
            @DefaultValue("classpath:demo-marketplace.yml") String demoCatalog,
            @DefaultValue("true") boolean demoEnabled) {
    }

    /** Origins and hosts beyond loopback that may reach /mcp (DNS-rebinding protection). */
    public record Http(
            @DefaultValue List<String> allowedOrigins,
            @DefaultValue List<String> allowedHosts) {
    }

    /** An R2DBC URL; empty means the embedded H2 file database under the data directory. */
    public record Database(
            @DefaultValue("") String url,
            @DefaultValue("") String username,
            @DefaultValue("") String password) {
    }
}
