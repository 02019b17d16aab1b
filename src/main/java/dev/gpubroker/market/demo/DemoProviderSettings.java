package dev.gpubroker.market.demo;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import dev.gpubroker.market.GpuModels;
import dev.gpubroker.money.PricePerGpuHour;

/** A demo provider's settings, checked: a catalog with a typo fails at start with a message that names it. */
record DemoProviderSettings(
        String name,
        String displayName,
        double reliability,
        Duration latencyMin,
        Duration latencyMax,
        double hangProbability,
        double errorProbability,
        double holdRefusalProbability,
        double launchFailureProbability,
        double nodeLossProbability,
        Duration nodeLossAfter,
        Duration launchDelay,
        List<DemoOffer> offers) {

    record DemoOffer(String offerId, String gpu, int vramGb, String region, PricePerGpuHour price, int capacity) {
    }

    static DemoProviderSettings from(DemoCatalog.ProviderSpec spec) {
        String where = "demo provider '" + spec.name() + "'";
        require(spec.name() != null && spec.name().matches("demo-[a-z0-9-]{1,40}"),
                "demo provider names start with 'demo-' (lower case, digits, dashes): got '" + spec.name() + "'");
        require(isProbability(spec.reliability()), where + ": reliability is in [0, 1]");
        require(isProbability(spec.hangProbability()), where + ": hangProbability is in [0, 1]");
        require(isProbability(spec.errorProbability()), where + ": errorProbability is in [0, 1]");
        require(isProbability(spec.holdRefusalProbability()), where + ": holdRefusalProbability is in [0, 1]");
        require(isProbability(spec.launchFailureProbability()), where + ": launchFailureProbability is in [0, 1]");
        require(isProbability(spec.nodeLossProbability()), where + ": nodeLossProbability is in [0, 1]");
        require(!spec.latencyMin().isNegative() && spec.latencyMin().compareTo(spec.latencyMax()) <= 0,
                where + ": 0 <= latencyMin <= latencyMax");
        require(!spec.launchDelay().isNegative() && spec.launchDelay().compareTo(Duration.ofMinutes(10)) <= 0,
                where + ": launchDelay is between 0 and 10 minutes");
        require(spec.offers() != null && !spec.offers().isEmpty(), where + ": has no offers");
        List<DemoOffer> offers = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        for (DemoCatalog.OfferSpec offer : spec.offers()) {
            require(offer.id() != null && ids.add(offer.id()), where + ": offer ids are present and unique");
            require(GpuModels.isKnown(offer.gpu()), where + ", offer " + offer.id() + ": gpu '" + offer.gpu()
                    + "' is not one of " + GpuModels.ALL);
            require(offer.vramGb() > 0 && offer.capacity() >= 0 && offer.region() != null,
                    where + ", offer " + offer.id() + ": vramGb > 0, capacity >= 0 and a region");
            offers.add(new DemoOffer(offer.id(), offer.gpu(), offer.vramGb(), offer.region(),
                    PricePerGpuHour.parse(offer.pricePerGpuHour()), offer.capacity()));
        }
        return new DemoProviderSettings(spec.name(), spec.displayName() == null ? spec.name() : spec.displayName(),
                spec.reliability(), spec.latencyMin(), spec.latencyMax(), spec.hangProbability(),
                spec.errorProbability(), spec.holdRefusalProbability(), spec.launchFailureProbability(),
                spec.nodeLossProbability(), spec.nodeLossAfter(), spec.launchDelay(), List.copyOf(offers));
    }

    private static boolean isProbability(double value) {
        return value >= 0.0 && value <= 1.0;
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalStateException("demo marketplace catalog: " + message);
        }
    }
}
