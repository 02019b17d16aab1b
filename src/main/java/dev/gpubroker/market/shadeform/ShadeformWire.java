package dev.gpubroker.market.shadeform;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;

import tools.jackson.databind.PropertyNamingStrategies;
import tools.jackson.databind.json.JsonMapper;

/**
 * Shadeform's shapes, as its OpenAPI document defines them (shadeform/docs, openapi.yaml, info.version 1.0.0, as of
 * commit 8d086fb of 2026-03-05): only the fields the broker reads or sends, in Java names; {@link #JSON} maps them to
 * Shadeform's snake_case. Unknown fields are ignored, so Shadeform may add some.
 */
final class ShadeformWire {

    /** Reads and writes Shadeform's snake_case field names. */
    static final JsonMapper JSON = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .build();

    private ShadeformWire() {
    }

    /** {@code InstanceTypesResponse} of {@code GET /instances/types}. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record InstanceTypes(List<InstanceType> instanceTypes) {
    }

    /**
     * {@code InstanceType}: a Shade instance type on one underlying {@code cloud}; {@code hourlyPrice} is in US cents
     * per hour for the whole instance (all its GPUs); {@code availability} per region.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record InstanceType(String cloud, String shadeInstanceType, String cloudInstanceType, Configuration configuration,
            Long hourlyPrice, List<Availability> availability) {
    }

    /** {@code InstanceTypeConfiguration}: {@code vramPerGpuInGb} is per GPU; {@code gpuType} e.g. H100, A100_80G. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record Configuration(Integer numGpus, String gpuType, Integer vramPerGpuInGb, String gpuManufacturer) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record Availability(String region, Boolean available) {
    }

    /** {@code InstancesResponse} of {@code GET /instances}: every instance not deleted ("deleting" ones too). */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record Instances(List<Instance> instances) {
    }

    /**
     * {@code Instance} / {@code InstanceInfoResponse}: {@code status} is creating, pending_provider, pending, active,
     * error, deleting or deleted, the status of the VM (Shadeform does not surface the container's); times are
     * RFC 3339 in UTC, {@code activeAt} null until the VM is active.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record Instance(String id, String name, String cloud, String region, String shadeInstanceType, String status,
            String statusDetails, String activeAt, String createdAt, String deletedAt, List<String> tags, String ip,
            String sshUser, Integer sshPort, Configuration configuration) {
    }

    /**
     * {@code CreateRequest} of {@code POST /instances/create}; {@code sshKeyId} names the key the VM lets in (the
     * broker's own, so that it can watch the job's container).
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record CreateRequest(String cloud, String region, String shadeInstanceType, boolean shadeCloud, String name,
            String sshKeyId, LaunchConfiguration launchConfiguration, AutoDelete autoDelete, List<String> tags) {
    }

    /** {@code LaunchConfiguration} of type {@code docker}: the container runs once the VM is active. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record LaunchConfiguration(String type, DockerConfiguration dockerConfiguration) {
    }

    /** {@code DockerConfiguration}: {@code args} is ONE string, the container's arguments after the image. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record DockerConfiguration(String image, String args, List<Env> envs) {
    }

    record Env(String name, String value) {
    }

    /** {@code AutoDelete}: {@code dateThreshold} is an RFC 3339 date after which Shadeform deletes the instance. */
    record AutoDelete(String dateThreshold) {
    }

    /**
     * {@code UpdateRequest} of {@code POST /instances/{id}/update}: the instance's tags (the whole list) and an earlier
     * auto-delete date.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record UpdateRequest(List<String> tags, AutoDelete autoDelete) {
    }

    /** {@code SshKeysResponse} of {@code GET /sshkeys}: the account's SSH keys. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record SshKeys(List<SshKey> sshKeys) {
    }

    /** {@code SshKey}: {@code publicKey} in OpenSSH's one-line form. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record SshKey(String id, String name, String publicKey) {
    }

    /** {@code AddSshKeyRequest} of {@code POST /sshkeys/add}; its answer is an {@link AddSshKeyResponse}. */
    record AddSshKey(String name, String publicKey) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record AddSshKeyResponse(String id) {
    }

    /** {@code CreateResponse}. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record CreateResponse(String id) {
    }
}
