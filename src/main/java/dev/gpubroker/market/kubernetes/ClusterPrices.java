package dev.gpubroker.market.kubernetes;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import dev.gpubroker.market.GpuModels;
import dev.gpubroker.money.PricePerGpuHour;

/**
 * The operator's prices for the cluster's GPUs, by model. Configuration keys are matched to {@link GpuModels} without
 * regard to case or punctuation ({@code a100-80gb}, {@code A100_80GB} and {@code A10080GB} are all the A100-80GB),
 * since Spring's relaxed binding may change a map key's case. These are the operator's own prices: no markup.
 */
final class ClusterPrices {

    private final Map<String, PricePerGpuHour> byModel;

    private ClusterPrices(Map<String, PricePerGpuHour> byModel) {
        this.byModel = Map.copyOf(byModel);
    }

    /** The prices configured; a key that names no model GPU Broker sells, or a price that is not positive, stops the start. */
    static ClusterPrices from(Map<String, BigDecimal> configured) {
        Map<String, PricePerGpuHour> prices = new HashMap<>();
        configured.forEach((key, usdcPerGpuHour) -> {
            String model = GpuModels.ALL.stream().filter(known -> squashed(known).equals(squashed(key))).findFirst()
                    .orElseThrow(() -> new IllegalStateException("gpubroker.providers.kubernetes.prices." + key
                            + " names no GPU model GPU Broker sells; known: " + GpuModels.ALL));
            if (usdcPerGpuHour == null || usdcPerGpuHour.signum() <= 0) {
                throw new IllegalStateException("gpubroker.providers.kubernetes.prices." + key
                        + " is a positive USDC amount per GPU-hour, got " + usdcPerGpuHour);
            }
            long micros = usdcPerGpuHour.setScale(6, RoundingMode.CEILING).movePointRight(6).longValueExact();
            prices.put(model, new PricePerGpuHour(micros));
        });
        return new ClusterPrices(prices);
    }

    Optional<PricePerGpuHour> of(String model) {
        return Optional.ofNullable(byModel.get(model));
    }

    List<String> models() {
        return GpuModels.ALL.stream().filter(byModel::containsKey).toList();
    }

    private static String squashed(String name) {
        return name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]", "");
    }
}
