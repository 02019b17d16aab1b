package dev.gpubroker.market.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

import dev.gpubroker.config.BrokerProperties;
import dev.gpubroker.config.BrokerProperties.Local.Switch;
import reactor.test.StepVerifier;

/** Whether this host sells its GPUs: the setting, what nvidia-smi finds, and which container runtime works. */
class LocalMachineTest {

    @TempDir
    Path dir;

    @Test
    void autoIsOffOnThisHostWhereTheRealNvidiaSmiIsMissing() {
        assumeThat(ContainerRuntime.findOnPath("nvidia-smi", System.getenv("PATH")).isPresent())
                .as("this test is for hosts without nvidia-smi").isFalse();

        LocalMachine machine = new LocalMachine(local(Switch.AUTO),
                new NvidiaSmi(NvidiaSmi.DEFAULT_EXECUTABLE, NvidiaSmi.DEFAULT_TIMEOUT), List.of(), null, dir,
                null, Clock.systemUTC());

        assertThat(machine.providers()).isEmpty();
    }

    @Test
    void autoIsOffWhenNvidiaSmiIsNotInstalled() {
        assertThat(machine(Switch.AUTO, dir.resolve("no-such-nvidia-smi")).providers()).isEmpty();
    }

    @Test
    void autoIsOnWhenNvidiaSmiFindsGpusThatAreSoldAndAsksItOnlyOnFirstUse() throws IOException {
        Path asked = dir.resolve("asked");
        Path nvidiaSmi = script("nvidia-smi", "touch " + asked + "\necho '0, NVIDIA L40S, 46068'\necho '1, NVIDIA L40S, 46068'\n");

        List<?> providers = machine(Switch.AUTO, nvidiaSmi).providers();

        assertThat(asked).as("nothing waits for nvidia-smi at start").doesNotExist();
        assertThat(providers).hasSize(1).first().isInstanceOfSatisfying(LocalProvider.class, provider -> {
            assertThat(provider.name()).isEqualTo("local");
            StepVerifier.create(provider.inventory())
                    .assertNext(inventory -> assertThat(inventory.offers())
                            .containsExactly(new LocalOffer("local-l40s", "L40S", 45, List.of(0, 1))))
                    .verifyComplete();
        });
        assertThat(asked).exists();
    }

    @Test
    void theHostIsAskedInTheBackgroundOnceTheServerHasStartedAndOnlyOnce() throws Exception {
        Path asked = dir.resolve("asked");
        Path nvidiaSmi = script("nvidia-smi", "echo once >> " + asked + "\necho '0, NVIDIA L40S, 46068'\n");
        LocalMachine machine = machine(Switch.AUTO, nvidiaSmi);

        machine.lookAtHost();

        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!Files.exists(asked)) {
            assertThat(System.nanoTime()).as("nvidia-smi asked in the background").isLessThan(deadline);
            Thread.sleep(20);
        }
        LocalProvider provider = (LocalProvider) machine.providers().getFirst();
        StepVerifier.create(provider.inventory())
                .assertNext(inventory -> assertThat(inventory.offers()).extracting(LocalOffer::offerId)
                        .containsExactly("local-l40s"))
                .verifyComplete();
        assertThat(Files.readAllLines(asked)).as("the first use found the answer ready").hasSize(1);
    }

    @Test
    void aHostWhoseNvidiaSmiFailedIsAskedAgainAfterASecondAndThenSells() throws Exception {
        Path asked = dir.resolve("asked");
        Path nvidiaSmi = script("nvidia-smi", "echo once >> " + asked + "\n"
                + "[ $(wc -l < " + asked + ") -gt 1 ] || { echo \"NVIDIA-SMI has failed because it couldn't communicate "
                + "with the NVIDIA driver.\"; exit 9; }\n"
                + "echo '0, NVIDIA L40S, 46068'\n");
        LocalProvider provider = (LocalProvider) machine(Switch.AUTO, nvidiaSmi).providers().getFirst();

        StepVerifier.create(provider.inventory())
                .expectErrorSatisfies(failure -> assertThat(failure)
                        .isInstanceOf(dev.gpubroker.market.ProviderUnavailableException.class)
                        .hasMessage("this host's GPUs could not be listed (nvidia-smi exited with code 9); they are "
                                + "asked for again on the next quote"))
                .verify();
        StepVerifier.create(provider.inventory()).expectError().verify();
        assertThat(Files.readAllLines(asked)).as("not asked again within a second").hasSize(1);

        Thread.sleep(LocalProvider.ASK_AGAIN_AFTER.toMillis() + 100);
        StepVerifier.create(provider.inventory())
                .assertNext(inventory -> assertThat(inventory.offers()).extracting(LocalOffer::offerId)
                        .containsExactly("local-l40s"))
                .verifyComplete();
        StepVerifier.create(provider.inventory()).expectNextCount(1).verifyComplete();
        assertThat(Files.readAllLines(asked)).as("an answer is kept").hasSize(2);
    }

    @Test
    void autoListsNoOffersWhenNoGpuIsOfAModelThatIsSold() throws IOException {
        Path nvidiaSmi = script("nvidia-smi", "echo '0, Tesla T4, 15360'\n");

        List<?> providers = machine(Switch.AUTO, nvidiaSmi).providers();

        assertThat(providers).hasSize(1).first().isInstanceOfSatisfying(LocalProvider.class, provider -> StepVerifier
                .create(provider.offers(new dev.gpubroker.market.OfferQuery(dev.gpubroker.market.GpuModels.ANY, 1, 60, Optional.empty(),
                        Optional.empty(), Optional.empty(), Optional.empty())))
                .expectNext(List.of())
                .verifyComplete());
    }

    @Test
    void trueOffersTheProviderEvenWithoutNvidiaSmi() {
        List<?> providers = machine(Switch.ON, dir.resolve("no-such-nvidia-smi")).providers();

        assertThat(providers).hasSize(1).first().isInstanceOfSatisfying(LocalProvider.class,
                provider -> StepVerifier.create(provider.inventory())
                        .assertNext(inventory -> assertThat(inventory.isEmpty()).isTrue())
                        .verifyComplete());
    }

    @Test
    void falseAsksNothingOfTheHost() throws IOException {
        Path marker = dir.resolve("asked");
        Path nvidiaSmi = script("nvidia-smi", "touch " + marker + "\necho '0, NVIDIA L40S, 46068'\n");

        assertThat(machine(Switch.OFF, nvidiaSmi).providers()).isEmpty();
        assertThat(marker).doesNotExist();
    }

    @Test
    void aBadPriceFailsTheStartNamingTheSetting() {
        BrokerProperties.Local local = new BrokerProperties.Local(Switch.AUTO, "-1", "local", 0.99);

        assertThatThrownBy(() -> LocalSettings.from(local))
                .hasMessageContaining("gpubroker.market.local.price-per-gpu-hour");
    }

    @Test
    void theSettingIsWrittenAutoTrueOrFalse() {
        assertThat(bind(Map.of())).isEqualTo(new BrokerProperties.Local(Switch.AUTO, "2.00", "local", 0.99));
        assertThat(bind(Map.of("enabled", "auto")).enabled()).isEqualTo(Switch.AUTO);
        assertThat(bind(Map.of("enabled", "true")).enabled()).isEqualTo(Switch.ON);
        assertThat(bind(Map.of("enabled", "false")).enabled()).isEqualTo(Switch.OFF);
    }

    @Test
    void dockerIsPreferredToPodmanOnThePath() throws IOException {
        Path first = Files.createDirectories(dir.resolve("first"));
        Path second = Files.createDirectories(dir.resolve("second"));
        executable(second.resolve("docker"));
        executable(first.resolve("podman"));
        Files.writeString(first.resolve("docker"), "not executable");

        assertThat(ContainerRuntime.onPath(first + File.pathSeparator + second)).containsExactly(
                new ContainerRuntime(ContainerRuntime.Kind.DOCKER, second.resolve("docker").toString()),
                new ContainerRuntime(ContainerRuntime.Kind.PODMAN, first.resolve("podman").toString()));
        assertThat(ContainerRuntime.onPath(first.toString())).extracting(ContainerRuntime::kind)
                .containsExactly(ContainerRuntime.Kind.PODMAN);
        assertThat(ContainerRuntime.onPath(dir.resolve("empty").toString())).isEmpty();
    }

    @Test
    void aRuntimeThatCannotRunContainersIsPassedOver() throws IOException {
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Files.writeString(bin.resolve("docker"), "#!/bin/sh\necho 'Cannot connect to the Docker daemon' >&2\nexit 1\n");
        Files.writeString(bin.resolve("podman"), "#!/bin/sh\n[ \"$1\" = info ] || exit 2\necho 'host: ...'\n");
        executable(bin.resolve("docker"));
        executable(bin.resolve("podman"));
        List<ContainerRuntime> onPath = ContainerRuntime.onPath(bin.toString());

        StepVerifier.create(LocalMachine.firstWorking(onPath))
                .assertNext(working -> assertThat(working).map(ContainerRuntime::kind)
                        .contains(ContainerRuntime.Kind.PODMAN))
                .verifyComplete();
        StepVerifier.create(LocalMachine.firstWorking(onPath.subList(0, 1)))
                .expectNext(Optional.empty())
                .verifyComplete();
    }

    private LocalMachine machine(Switch enabled, Path nvidiaSmi) {
        return new LocalMachine(local(enabled), new NvidiaSmi(nvidiaSmi.toString(), Duration.ofSeconds(5)), List.of(),
                null, dir, null, Clock.systemUTC());
    }

    private static BrokerProperties.Local local(Switch enabled) {
        return new BrokerProperties.Local(enabled, "2.00", "local", 0.99);
    }

    private static BrokerProperties.Local bind(Map<String, String> settings) {
        Map<String, String> prefixed = new java.util.HashMap<>();
        settings.forEach((name, value) -> prefixed.put("gpubroker.market.local." + name, value));
        return new Binder(new MapConfigurationPropertySource(prefixed))
                .bindOrCreate("gpubroker.market.local", BrokerProperties.Local.class);
    }

    private Path script(String name, String body) throws IOException {
        Path script = dir.resolve(name);
        Files.writeString(script, "#!/bin/sh\n" + body);
        executable(script);
        return script;
    }

    private static void executable(Path file) throws IOException {
        if (!Files.exists(file)) {
            Files.writeString(file, "#!/bin/sh\nexit 0\n");
        }
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
}
