package dev.gpubroker.market.vastai;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import dev.gpubroker.market.GpuModelNames;
import tools.jackson.databind.JsonNode;

/** Vast.ai's answers, read at the edge: an offer (one host machine's bundle of GPUs) and an instance row. */
final class VastaiReading {

    private VastaiReading() {
    }

    /** One row of {@code offers[]} from {@code POST /bundles/}; prices per machine, in USD per hour. */
    record HostOffer(long askId, String gpu, int vramGb, int gpuCount, BigDecimal machineUsdPerHour,
            BigDecimal storageUsdPerHour, Optional<BigDecimal> minBidUsdPerHour, double reliability, String region) {
    }

    /** The offer, or empty when its GPU is not a model GPU Broker sells or a field it needs is missing. */
    static Optional<HostOffer> offer(JsonNode row) {
        long askId = row.path("id").asLong(0);
        int gpuCount = row.path("num_gpus").asInt(0);
        int gpuRamMb = row.path("gpu_ram").asInt(0);
        double dphTotal = row.path("dph_total").asDouble(0);
        if (askId <= 0 || gpuCount <= 0 || gpuRamMb <= 0 || !(dphTotal > 0) || !row.path("gpu_name").isString()) {
            return Optional.empty();
        }
        Optional<String> model = GpuModelNames.modelOf(row.path("gpu_name").asString(), gpuRamMb);
        if (model.isEmpty()) {
            return Optional.empty();
        }
        BigDecimal total = BigDecimal.valueOf(dphTotal);
        double base = row.path("dph_base").asDouble(dphTotal);
        BigDecimal storage = total.subtract(BigDecimal.valueOf(base)).max(BigDecimal.ZERO);
        double minBid = row.path("min_bid").asDouble(0);
        double reliability = Math.clamp(row.path("reliability2").asDouble(row.path("reliability").asDouble(0)), 0.0, 1.0);
        return Optional.of(new HostOffer(askId, model.get(), Math.max(1, (int) Math.round(gpuRamMb / 1024.0)), gpuCount,
                total, storage, minBid > 0 ? Optional.of(BigDecimal.valueOf(minBid)) : Optional.empty(), reliability,
                region(row.path("geolocation").asString(""))));
    }

    /** "Washington, US" → "US"; the country code is what Vast filters on ({@code geolocation in [US, CA]}). */
    static String region(String geolocation) {
        String[] parts = geolocation.split(",");
        String last = parts[parts.length - 1].strip();
        return last.isEmpty() ? "unknown" : last.toUpperCase(Locale.ROOT);
    }

    /** One instance row ({@code GET /instances/} → {@code instances[]}, or {@code GET /instances/{id}/}). */
    record Instance(long id, String label, String actualStatus, String intendedStatus, String curState,
            String statusMessage, boolean bid, Optional<Instant> createdAt, Optional<String> promisedGpu,
            int promisedCount, Map<String, String> environment) {

        boolean running() {
            return "running".equals(actualStatus);
        }

        /** The container is down and will not come back by itself: it exited, or Vast stopped it (an outbid bid). */
        boolean stopped() {
            return "exited".equals(actualStatus) || "stopped".equals(actualStatus)
                    || ("stopped".equals(curState) && !"loading".equals(actualStatus));
        }

        boolean hostLost() {
            return "offline".equals(actualStatus);
        }
    }

    static Instance instance(JsonNode row) {
        double startDate = row.path("start_date").asDouble(0);
        int gpuRamMb = row.path("gpu_ram").asInt(row.path("gpu_totalram").asInt(0));
        Optional<String> gpu = row.path("gpu_name").isString()
                ? GpuModelNames.modelOf(row.path("gpu_name").asString(), gpuRamMb) : Optional.empty();
        return new Instance(row.path("id").asLong(), text(row, "label"), text(row, "actual_status"),
                text(row, "intended_status"), text(row, "cur_state"), text(row, "status_msg"),
                row.path("is_bid").asBoolean(false),
                startDate > 0 ? Optional.of(Instant.ofEpochMilli((long) (startDate * 1000))) : Optional.empty(),
                gpu, Math.max(1, row.path("num_gpus").asInt(1)), environment(row.path("extra_env")));
    }

    /** {@code extra_env}: pairs {@code [name, value]} (as the CLI reads it), or {@code "NAME=value"} strings. */
    private static Map<String, String> environment(JsonNode extraEnv) {
        Map<String, String> environment = new HashMap<>();
        for (JsonNode item : extraEnv) {
            if (item.isArray() && item.size() >= 2) {
                environment.put(item.get(0).asString(""), item.get(1).asString(""));
            } else if (item.isString() && item.asString().contains("=")) {
                String pair = item.asString();
                environment.put(pair.substring(0, pair.indexOf('=')), pair.substring(pair.indexOf('=') + 1));
            }
        }
        return Map.copyOf(environment);
    }

    private static String text(JsonNode row, String field) {
        JsonNode value = row.path(field);
        return value.isString() ? value.asString() : "";
    }
}
