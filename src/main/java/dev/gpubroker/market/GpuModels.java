package dev.gpubroker.market;

import java.util.List;

/** The GPU model names every provider's offers are normalised to; the quote tool's {@code gpu} enum lists them. */
public final class GpuModels {

    public static final String ANY = "any";
    public static final List<String> ALL = List.of("B200", "H200", "H100", "A100-80GB", "A100-40GB", "L40S", "RTX4090");

    private GpuModels() {
    }

    public static boolean isKnown(String gpu) {
        return ALL.contains(gpu);
    }
}
