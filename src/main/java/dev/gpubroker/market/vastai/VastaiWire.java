package dev.gpubroker.market.vastai;

import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * The request bodies sent to Vast.ai, in the shapes the vast-ai/vast-cli client sends them (vastai/api/offers.py
 * {@code search_offers}, vastai/api/instances.py {@code create_instance} and {@code logs}; the OpenAPI documents in
 * vast-ai/docs api-reference/openapi/yaml/). Answers are read field by field in {@link VastaiReading}.
 */
final class VastaiWire {

    private VastaiWire() {
    }

    /** {@code POST /bundles/}: each filter is {@code {"op": value}}; {@code order} is {@code [[field, "asc"|"desc"]]}. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record SearchOffers(
            Map<String, Object> verified,
            Map<String, Object> external,
            Map<String, Object> rentable,
            Map<String, Object> rented,
            @JsonProperty("num_gpus") Map<String, Object> numGpus,
            @JsonProperty("gpu_name") Map<String, Object> gpuName,
            Map<String, Object> reliability,
            Map<String, Object> id,
            List<List<String>> order,
            String type,
            int limit,
            @JsonProperty("allocated_storage") double allocatedStorageGb) {
    }

    /**
     * {@code PUT /asks/{id}/}: {@code runtype "args"} runs the image with {@code args} as its command (the image's
     * entrypoint, if any, receives them); {@code price} (per machine, $/hour) only for an interruptible bid;
     * {@code env} as the CLI sends it (a name → value object).
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record CreateInstance(
            @JsonProperty("client_id") String clientId,
            String image,
            Map<String, String> env,
            Double price,
            double disk,
            String label,
            String runtype,
            List<String> args,
            @JsonProperty("cancel_unavail") boolean cancelUnavailable) {
    }

    /** {@code PUT /instances/request_logs/{id}/}: the newest {@code tail} lines (a string, as documented). */
    record RequestLogs(String tail) {
    }
}
