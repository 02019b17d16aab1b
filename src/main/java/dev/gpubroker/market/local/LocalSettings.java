package dev.gpubroker.market.local;

import dev.gpubroker.config.BrokerProperties;
import dev.gpubroker.money.PricePerGpuHour;

/** The local provider's settings, checked: a typo fails the start with a message that names the setting. */
record LocalSettings(PricePerGpuHour price, String region, double reliability) {

    static LocalSettings from(BrokerProperties.Local local) {
        PricePerGpuHour price;
        try {
            price = PricePerGpuHour.parse(local.pricePerGpuHour());
        } catch (RuntimeException e) {
            throw new IllegalStateException("gpubroker.market.local.price-per-gpu-hour is a positive USDC amount such as "
                    + "2.00, got '" + local.pricePerGpuHour() + "'", e);
        }
        if (local.region() == null || local.region().isBlank()) {
            throw new IllegalStateException("gpubroker.market.local.region is not blank");
        }
        if (!(local.reliability() >= 0.0 && local.reliability() <= 1.0)) {
            throw new IllegalStateException("gpubroker.market.local.reliability is a probability in [0, 1], got "
                    + local.reliability());
        }
        return new LocalSettings(price, local.region().strip(), local.reliability());
    }
}
