package dev.gpubroker.market.local;

import java.util.List;
import java.util.Objects;

import dev.gpubroker.market.GpuModels;

/** One offer of this host: every GPU of one model (by its nvidia-smi index), sold by the GPU. */
record LocalOffer(String offerId, String gpu, int vramGb, List<Integer> gpuIndices) {

    LocalOffer {
        Objects.requireNonNull(offerId, "offerId");
        gpuIndices = List.copyOf(gpuIndices);
        if (!GpuModels.isKnown(gpu) || vramGb <= 0 || gpuIndices.isEmpty()) {
            throw new IllegalArgumentException("an offer has a known model, VRAM and at least one GPU: " + gpu + ", "
                    + vramGb + " GB, GPUs " + gpuIndices);
        }
    }

    int capacity() {
        return gpuIndices.size();
    }
}
