package dev.gpubroker.market.shadeform;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

import dev.gpubroker.market.GpuModelNames;
import dev.gpubroker.market.Offer;
import dev.gpubroker.market.OfferQuery;
import dev.gpubroker.market.remote.ProviderPricing;

/**
 * Shadeform's instance types, normalised into {@link Offer}s: one offer per underlying cloud, Shade instance type and
 * region that is available now, for instance types with exactly the GPUs asked (an instance is rented whole: an
 * 8-GPU instance sold as one GPU would cost the operator eight). The underlying cloud is shown in the region
 * ({@code <cloud>:<region>}) and in the offer id ({@code <cloud>:<shade_instance_type>:<region>}), which is all a
 * launch needs.
 */
final class ShadeformCatalog {

    /** The most offers one answer carries, the cheapest kept. */
    static final int OFFERS_MAX = 200;

    private static final BigDecimal CENTS_PER_DOLLAR = BigDecimal.valueOf(100);

    private ShadeformCatalog() {
    }

    static List<Offer> offersOf(ShadeformWire.InstanceTypes answer, OfferQuery query, ShadeformSettings settings,
            ProviderPricing pricing) {
        List<Offer> offers = new ArrayList<>();
        List<ShadeformWire.InstanceType> types = answer == null || answer.instanceTypes() == null ? List.of()
                : answer.instanceTypes();
        for (ShadeformWire.InstanceType type : types) {
            ShadeformWire.Configuration configuration = type.configuration();
            if (configuration == null || configuration.numGpus() == null || configuration.numGpus() != query.gpuCount()
                    || configuration.vramPerGpuInGb() == null || configuration.vramPerGpuInGb() <= 0
                    || type.hourlyPrice() == null || type.hourlyPrice() <= 0 || type.availability() == null
                    || type.cloud() == null || type.shadeInstanceType() == null) {
                continue;
            }
            Optional<String> model = modelOf(configuration.gpuType(), configuration.vramPerGpuInGb());
            if (model.isEmpty()) {
                continue;
            }
            BigDecimal usdPerGpuHour = BigDecimal.valueOf(type.hourlyPrice())
                    .divide(CENTS_PER_DOLLAR.multiply(BigDecimal.valueOf(configuration.numGpus())), 8, RoundingMode.CEILING);
            for (ShadeformWire.Availability region : type.availability()) {
                if (!Boolean.TRUE.equals(region.available()) || region.region() == null) {
                    continue;
                }
                Offer offer = new Offer(ShadeformProvider.NAME,
                        OfferId.of(type.cloud(), type.shadeInstanceType(), region.region()).text(),
                        model.get(), configuration.vramPerGpuInGb(), type.cloud() + ":" + region.region(),
                        pricing.sellingPrice(usdPerGpuHour), configuration.numGpus(),
                        settings.reliabilityOf(type.cloud()));
                if (query.accepts(offer)) {
                    offers.add(offer);
                }
            }
        }
        return offers.stream()
                .sorted(Comparator.comparing(Offer::price).thenComparing(Offer::offerId))
                .limit(OFFERS_MAX)
                .toList();
    }

    /**
     * The GPU Broker model of Shadeform's {@code gpu_type} (H100, A100_80G, L40S, RTX4090, ...), told by the same rules
     * as nvidia-smi's names (so a GH200 is not an H200, an L40 not an L40S); empty for a GPU GPU Broker does not sell.
     */
    static Optional<String> modelOf(String gpuType, int vramPerGpuGb) {
        if (gpuType == null || gpuType.isBlank()) {
            return Optional.empty();
        }
        String name = gpuType.strip().toUpperCase(Locale.ROOT).replace('_', ' ').replaceFirst("^RTX(?=\\d)", "RTX ");
        return GpuModelNames.modelOf(name, vramPerGpuGb * 1024);
    }

    /** An offer's id, {@code <cloud>:<shade_instance_type>:<region>}: where and what to create. */
    record OfferId(String cloud, String shadeInstanceType, String region) {

        static OfferId of(String cloud, String shadeInstanceType, String region) {
            return new OfferId(cloud, shadeInstanceType, region);
        }

        String text() {
            return cloud + ":" + shadeInstanceType + ":" + region;
        }

        static Optional<OfferId> parse(String text) {
            if (text == null) {
                return Optional.empty();
            }
            String[] parts = text.split(":", 3);
            if (parts.length != 3 || parts[0].isBlank() || parts[1].isBlank() || parts[2].isBlank()) {
                return Optional.empty();
            }
            return Optional.of(new OfferId(parts[0], parts[1], parts[2]));
        }
    }
}
