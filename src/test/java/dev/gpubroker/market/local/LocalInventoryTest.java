package dev.gpubroker.market.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

class LocalInventoryTest {

    @Test
    void makesOneOfferPerModelWithOneUnitPerGpuAndLeavesUnknownModelsOut() {
        LocalInventory inventory = LocalInventory.from(NvidiaSmi.parse(LocalNvidiaSmiTest.MIXED_HOST_OUTPUT));

        assertThat(inventory.offers()).containsExactly(
                new LocalOffer("local-h100", "H100", 80, List.of(0, 1)),
                new LocalOffer("local-a100-80gb", "A100-80GB", 80, List.of(2)),
                new LocalOffer("local-l40s", "L40S", 45, List.of(3)),
                new LocalOffer("local-rtx4090", "RTX4090", 24, List.of(4)));
    }

    @Test
    void anOfferPromisesTheSmallestMemoryAmongItsGpus() {
        LocalInventory inventory = LocalInventory.from(List.of(
                new DetectedGpu(0, "NVIDIA H100 NVL", 95830),
                new DetectedGpu(1, "NVIDIA H100 PCIe", 81559)));

        assertThat(inventory.offers()).containsExactly(new LocalOffer("local-h100", "H100", 80, List.of(0, 1)));
    }

    @Test
    void aGpuListedTwiceCountsOnce() {
        LocalInventory inventory = LocalInventory.from(List.of(
                new DetectedGpu(0, "NVIDIA L40S", 46068),
                new DetectedGpu(0, "NVIDIA L40S", 46068)));

        assertThat(inventory.offers()).extracting(LocalOffer::capacity).containsExactly(1);
    }

    @Test
    void aHostWithoutSellableGpusHasNoOffers() {
        assertThat(LocalInventory.from(List.of(new DetectedGpu(0, "Tesla T4", 15360))).isEmpty()).isTrue();
        assertThat(LocalInventory.from(List.of()).isEmpty()).isTrue();
    }
}
