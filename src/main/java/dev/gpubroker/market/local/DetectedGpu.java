package dev.gpubroker.market.local;

import java.util.Objects;

/** One GPU as nvidia-smi reports it: its index on this host, its product name, and its memory in MiB. */
record DetectedGpu(int index, String name, int memoryMib) {

    DetectedGpu {
        Objects.requireNonNull(name, "name");
        if (index < 0 || memoryMib <= 0) {
            throw new IllegalArgumentException("a GPU index is not negative and its memory is positive, got index " + index
                    + " and " + memoryMib + " MiB");
        }
    }
}
