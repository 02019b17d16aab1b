package dev.gpubroker.market.local;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.gpubroker.market.GpuModelNames;
import dev.gpubroker.market.GpuModels;

/**
 * This host's GPUs as offers: one per model, its capacity the number of GPUs of that model. A GPU of a model
 * GPU Broker does not sell is left out, with a log line that names it.
 */
record LocalInventory(List<LocalOffer> offers) {

    private static final Logger log = LoggerFactory.getLogger(LocalInventory.class);
    private static final int MIB_PER_GIB = 1024;

    LocalInventory {
        offers = List.copyOf(offers);
    }

    static LocalInventory from(List<DetectedGpu> gpus) {
        Map<String, Map<Integer, DetectedGpu>> byModel = new LinkedHashMap<>();
        GpuModels.ALL.forEach(model -> byModel.put(model, new TreeMap<>()));
        for (DetectedGpu gpu : gpus) {
            Optional<String> model = GpuModelNames.modelOf(gpu.name(), gpu.memoryMib());
            if (model.isEmpty()) {
                log.info("GPU {} ({}, {} MiB) is not sold: its model is not one of {}", gpu.index(), gpu.name(),
                        gpu.memoryMib(), GpuModels.ALL);
            } else if (byModel.values().stream().anyMatch(indices -> indices.containsKey(gpu.index()))) {
                log.warn("nvidia-smi lists GPU index {} twice; only its first line counts", gpu.index());
            } else {
                byModel.get(model.get()).put(gpu.index(), gpu);
            }
        }
        List<LocalOffer> offers = new ArrayList<>();
        byModel.forEach((model, indexed) -> {
            if (!indexed.isEmpty()) {
                // A job may land on any GPU of the offer: the smallest memory among them is what the offer promises.
                int memoryMibMin = indexed.values().stream().mapToInt(DetectedGpu::memoryMib).min().orElseThrow();
                int vramGb = Math.max(1, Math.round(memoryMibMin / (float) MIB_PER_GIB));
                offers.add(new LocalOffer(offerIdOf(model), model, vramGb, List.copyOf(indexed.keySet())));
            }
        });
        return new LocalInventory(offers);
    }

    static String offerIdOf(String model) {
        return LocalProvider.NAME + "-" + model.toLowerCase(Locale.ROOT);
    }

    Optional<LocalOffer> find(String offerId) {
        return offers.stream().filter(offer -> offer.offerId().equals(offerId)).findFirst();
    }

    boolean isEmpty() {
        return offers.isEmpty();
    }

    @Override
    public String toString() {
        return offers.isEmpty() ? "no GPUs"
                : String.join(", ", offers.stream().map(offer -> offer.capacity() + " x " + offer.gpu() + " "
                        + offer.vramGb() + " GB (GPUs " + offer.gpuIndices() + ")").toList());
    }
}
