package dev.gpubroker.market.runpod;

import java.math.BigDecimal;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * RunPod REST API v2's shapes, as its OpenAPI document (runpod/docs, api-reference-v2/openapi.json, version 2.0.0)
 * defines them: only the fields the broker reads or sends. Unknown fields are ignored, so RunPod may add some.
 */
final class RunpodWire {

    private RunpodWire() {
    }

    /** {@code ListGpuTypesResponse} of {@code GET /v2/catalog/gpus}. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record GpuTypes(List<GpuType> gpus) {
    }

    /**
     * {@code GpuType}: {@code memory} is VRAM in GB; {@code price} is USD per hour for one GPU, per cloud;
     * {@code maxCount} the most GPUs one pod of this type can have, per cloud; {@code availability} (NONE, LOW,
     * MEDIUM, HIGH) only with {@code include=AVAILABILITY}, for the {@code cloud} and {@code count} asked.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record GpuType(String id, String name, Integer memory, Boolean secure, Boolean community, PerCloudPrice price,
            PerCloudCount maxCount, String availability) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record PerCloudPrice(BigDecimal secure, BigDecimal community) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record PerCloudCount(Integer secure, Integer community) {
    }

    /** {@code ListPodsResponse} of {@code GET /v2/pods}. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record Pods(List<Pod> pods) {
    }

    /**
     * {@code Pod}: {@code status} is PROVISIONING, STARTING, RUNNING, EXITED, ERROR or TERMINATED; {@code startedAt}
     * (RFC 3339) is null until the container started.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record Pod(String id, String name, String status, Map<String, String> env, GpuConfig gpu, String cloud,
            String createdAt, String startedAt) {
    }

    /** {@code GpuConfig} / {@code CreateGpuConfig}: a GPU type id and how many. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record GpuConfig(String id, Integer count) {
    }

    /**
     * {@code CreatePodRequest} of {@code POST /v2/pods} (the v2 names: {@code image}, {@code gpu{id,count}},
     * {@code args}, {@code cloud}; v2 refuses v1's with 422). {@code args} is one string.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record CreatePod(String name, String image, GpuConfig gpu, String args, Map<String, String> env, String cloud,
            Integer disk) {
    }

    /** The {@code data} of one server-sent event of {@code GET /v2/pods/{id}/logs}. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record LogData(String ts, String source, String line) {
    }
}
