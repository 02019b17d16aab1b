package dev.gpubroker.market.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.gpubroker.market.GpuModels;
import dev.gpubroker.market.HoldOutcome;
import dev.gpubroker.market.HoldRequest;
import dev.gpubroker.market.Offer;
import dev.gpubroker.market.OfferQuery;
import dev.gpubroker.money.PricePerGpuHour;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

/** The local provider's offers and holds, counted in a real database. */
class LocalProviderCapacityTest {

    private static final OfferQuery ANY_GPU = new OfferQuery(GpuModels.ANY, 1, 60, Optional.empty(), Optional.empty(),
            Optional.empty(), Optional.empty());
    private static final LocalSettings SETTINGS = new LocalSettings(PricePerGpuHour.parse("2.00"), "local", 0.99);

    @TempDir
    Path dir;

    private LocalProvider provider;

    @BeforeEach
    void hostWithTwoH100AnL40sAndAT4() {
        provider = new LocalProvider(SETTINGS, List.of(
                new DetectedGpu(0, "NVIDIA H100 80GB HBM3", 81559),
                new DetectedGpu(1, "NVIDIA H100 80GB HBM3", 81559),
                new DetectedGpu(2, "NVIDIA L40S", 46068),
                new DetectedGpu(3, "Tesla T4", 15360)),
                Optional.empty(), dev.gpubroker.market.ProviderTestDatabase.capacity(dir), dir, null, Clock.systemUTC());
    }

    @Test
    void offersOneOfferPerModelAtTheConfiguredPriceWithEveryGpuFree() {
        StepVerifier.create(provider.offers(ANY_GPU))
                .expectNext(List.of(
                        new Offer("local", "local-h100", "H100", 80, "local", PricePerGpuHour.parse("2.00"), 2, 0.99),
                        new Offer("local", "local-l40s", "L40S", 45, "local", PricePerGpuHour.parse("2.00"), 1, 0.99)))
                .verifyComplete();
    }

    @Test
    void holdsNeverTakeMoreGpusThanTheHostHasAndReleaseGivesThemBack() {
        StepVerifier.create(provider.hold(hold("res_1", "local-h100", 2))).expectNext(new HoldOutcome.Held("res_1"))
                .verifyComplete();
        StepVerifier.create(provider.hold(hold("res_2", "local-h100", 1)))
                .assertNext(outcome -> assertThat(outcome).isInstanceOf(HoldOutcome.NoCapacity.class))
                .verifyComplete();
        StepVerifier.create(provider.hold(hold("res_1", "local-h100", 2))).expectNext(new HoldOutcome.Held("res_1"))
                .verifyComplete();
        assertThat(freeGpus("local-h100")).isZero();

        StepVerifier.create(provider.release("res_1")).verifyComplete();

        assertThat(freeGpus("local-h100")).isEqualTo(2);
    }

    @Test
    void concurrentHoldsOfTheLastGpusNeverOversell() {
        List<HoldOutcome> outcomes = Flux.range(0, 8)
                .flatMap(reservation -> provider.hold(hold("res_" + reservation, "local-h100", 1)), 8)
                .collectList().block(Duration.ofSeconds(30));

        assertThat(outcomes).filteredOn(HoldOutcome.Held.class::isInstance).hasSize(2);
        assertThat(outcomes).filteredOn(HoldOutcome.NoCapacity.class::isInstance).hasSize(6);
        assertThat(freeGpus("local-h100")).isZero();
    }

    @Test
    void anOfferNotOnThisHostCannotBeHeld() {
        StepVerifier.create(provider.hold(hold("res_1", "local-t4", 1)))
                .assertNext(outcome -> assertThat(outcome).isInstanceOfSatisfying(HoldOutcome.Unholdable.class,
                        unholdable -> assertThat(unholdable.reason()).contains("local-t4", "H100", "L40S")))
                .verifyComplete();
    }

    private static HoldRequest hold(String holdId, String offerId, int gpuCount) {
        return new HoldRequest(holdId, offerId, gpuCount, Instant.now().plusSeconds(600),
                dev.gpubroker.money.PricePerGpuHour.parse("100"));
    }

    private int freeGpus(String offerId) {
        return provider.offers(ANY_GPU).block(Duration.ofSeconds(10)).stream()
                .filter(offer -> offer.offerId().equals(offerId)).findFirst().orElseThrow().availableGpus();
    }
}
