package dev.gpubroker.market.runpod;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.gpubroker.market.ProviderBilling;
import dev.gpubroker.market.remote.RemoteApi;
import reactor.core.publisher.Mono;
import tools.jackson.databind.JsonNode;

/**
 * RunPod's pod billing history ({@code GET /billing/pods}, REST API v2 {@code listPodBilling}): hourly buckets, one
 * record per pod per bucket with its GPU, CPU, disk and total amounts in USD. RunPod snaps the window to its buckets, so
 * the bill covers whole hours.
 */
final class RunpodBilling {

    /** The most pods one bill lists (the totals still count every record). */
    static final int CHARGES_MAX = 1000;

    private final RemoteApi api;

    RunpodBilling(RemoteApi api) {
        this.api = api;
    }

    Mono<ProviderBilling.Bill> billed(Instant from, Instant to) {
        Instant start = from.truncatedTo(ChronoUnit.HOURS);
        Instant end = to.truncatedTo(ChronoUnit.HOURS).equals(to) ? to : to.truncatedTo(ChronoUnit.HOURS).plus(1, ChronoUnit.HOURS);
        return api.get("/billing/pods?bucketSize=hour&startTime=" + start + "&endTime=" + end)
                .defaultIfEmpty(tools.jackson.databind.node.MissingNode.getInstance())
                .map(answer -> bill(answer, start, end));
    }

    private static ProviderBilling.Bill bill(JsonNode answer, Instant start, Instant end) {
        Map<String, BigDecimal[]> byPod = new LinkedHashMap<>();
        BigDecimal gpu = BigDecimal.ZERO;
        BigDecimal total = BigDecimal.ZERO;
        for (JsonNode record : answer.path("records")) {
            String podId = record.path("podId").asString("");
            BigDecimal recordGpu = amount(record, "gpuAmount");
            BigDecimal recordTotal = amount(record, "totalAmount");
            gpu = gpu.add(recordGpu);
            total = total.add(recordTotal);
            if (byPod.size() < CHARGES_MAX || byPod.containsKey(podId)) {
                BigDecimal[] sums = byPod.computeIfAbsent(podId, id -> new BigDecimal[] {BigDecimal.ZERO, BigDecimal.ZERO});
                sums[0] = sums[0].add(recordGpu);
                sums[1] = sums[1].add(recordTotal);
            }
        }
        List<ProviderBilling.Charge> charges = new ArrayList<>();
        byPod.forEach((pod, sums) -> charges.add(new ProviderBilling.Charge(pod, sums[0], sums[1])));
        return new ProviderBilling.Bill(start, end, gpu, total, charges);
    }

    /** An amount in USD; RunPod sends numbers, never negative ones (a negative one is refused as unreadable). */
    private static BigDecimal amount(JsonNode record, String field) {
        JsonNode value = record.path(field);
        if (value.isMissingNode() || value.isNull()) {
            return BigDecimal.ZERO;
        }
        BigDecimal amount = value.decimalValue();
        if (amount.signum() < 0) {
            throw new IllegalStateException("runpod billed a negative " + field + ": " + amount);
        }
        return amount;
    }
}
