package dev.gpubroker.market.shadeform;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.web.reactive.function.client.WebClient;

import dev.gpubroker.market.ProviderConfiguration;
import dev.gpubroker.market.remote.ApiKeys;
import dev.gpubroker.market.remote.ProviderPricing;
import dev.gpubroker.market.remote.RemoteProvidersConfiguration.RemoteHttp;

/** Shadeform is offered only with a key, and says how to enable it or where its key came from, never the key. */
class ShadeformProvidersTest {

    private static ShadeformProviders source(Map<String, String> environment, Path dataDir) {
        return new ShadeformProviders(new ApiKeys(environment, dataDir),
                ShadeformSettings.defaults("https://api.shadeform.ai/v1"), new RemoteHttp(WebClient.builder()),
                new ProviderPricing(BigDecimal.ZERO), Clock.systemUTC());
    }

    @Test
    void withoutAKeyShadeformIsNotOfferedAndSaysHowToEnableIt(@TempDir Path dataDir) {
        ShadeformProviders source = source(Map.of(), dataDir);

        assertThat(source.providers()).isEmpty();
        assertThat(source.configuration()).containsExactly(new ProviderConfiguration("shadeform", false,
                "set SHADEFORM_API_KEY or put the key in " + dataDir.resolve("providers/shadeform.key").toAbsolutePath().normalize()));
    }

    @Test
    void withAKeyShadeformIsOfferedAndNamesWhereTheKeyCameFromButNotTheKey(@TempDir Path dataDir) throws Exception {
        ShadeformProviders source = source(Map.of("SHADEFORM_API_KEY", "sf-secret-123"), dataDir);

        assertThat(source.providers()).singleElement().satisfies(provider -> {
            assertThat(provider.name()).isEqualTo("shadeform");
            assertThat(provider.offerTtl()).hasSeconds(15);
        });
        assertThat(source.configuration()).singleElement().satisfies(configuration -> {
            assertThat(configuration.enabled()).isTrue();
            assertThat(configuration.detail()).contains("SHADEFORM_API_KEY").doesNotContain("sf-secret-123");
        });
        // The broker's SSH key for its VMs is made on first use, readable by its owner only, and kept across starts.
        Path sshKey = dataDir.resolve("providers/shadeform-ssh.key");
        assertThat(sshKey).isRegularFile();
        assertThat(java.nio.file.Files.getPosixFilePermissions(sshKey))
                .containsExactlyInAnyOrder(java.nio.file.attribute.PosixFilePermission.OWNER_READ,
                        java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
        String publicHalf = ShadeformSshKey.loadOrCreate(sshKey).publicKeyLine();
        source.destroy();
        ShadeformProviders again = source(Map.of("SHADEFORM_API_KEY", "sf-secret-123"), dataDir);
        assertThat(ShadeformSshKey.loadOrCreate(sshKey).publicKeyLine()).isEqualTo(publicHalf);
        again.destroy();
    }
}
