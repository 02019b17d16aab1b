package dev.gpubroker.market.kubernetes;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

import dev.gpubroker.market.LaunchRequest;
import dev.gpubroker.market.remote.ReadinessProbe;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;

/**
 * The batch/v1 Job of a launch, and the name it has in the cluster: a pure function of the request, so that a retried
 * launch builds the same Job under the same name and finds the first one.
 */
final class JobManifests {

    static final String CONTAINER = "job";
    static final String MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
    static final String MANAGED_BY = "gpu-broker";
    static final String JOB_ID_LABEL = "gpubroker.dev/job-id";
    static final String JOB_ID_ANNOTATION = "gpubroker.dev/job-id";
    static final String GPU_MODEL_ANNOTATION = "gpubroker.dev/gpu-model";
    static final String GPU_COUNT_ANNOTATION = "gpubroker.dev/gpu-count";
    static final String KUEUE_QUEUE_LABEL = "kueue.x-k8s.io/queue-name";
    /** Set by the Job controller on its pods (every Kubernetes version; 1.27+ also sets batch.kubernetes.io/job-name). */
    static final String POD_JOB_NAME_LABEL = "job-name";

    private static final int NAME_LENGTH_MAX = 63;
    private static final int HASH_HEX_LENGTH = 10;
    private static final Pattern LABEL_VALUE = Pattern.compile("([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?");

    /** What a Job is made of besides the request: the namespace's settings and the node product chosen. */
    record Placement(String namespace, String queue, String defaultImage, long finishedJobTtlSeconds) {
    }

    private JobManifests() {
    }

    /**
     * The Job's name: the job id in DNS-1123 form (lower case, letters, digits and dashes, at most 63 characters),
     * followed by a short hash of the exact id, so that two ids that read alike ("Job_A", "job-a") never share a Job.
     */
    static String jobName(String jobId) {
        String readable = jobId.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9-]+", "-").replaceAll("-{2,}", "-");
        int room = NAME_LENGTH_MAX - HASH_HEX_LENGTH - 1;
        if (readable.length() > room) {
            readable = readable.substring(0, room);
        }
        readable = readable.replaceAll("^-+|-+$", "");
        String hash = sha256Hex(jobId).substring(0, HASH_HEX_LENGTH);
        return readable.isEmpty() ? "job-" + hash : readable + "-" + hash;
    }

    static Job job(LaunchRequest request, String gpuModel, String product, Placement placement) {
        String name = jobName(request.jobId());
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(MANAGED_BY_LABEL, MANAGED_BY);
        labels.put(JOB_ID_LABEL, LABEL_VALUE.matcher(request.jobId()).matches() ? request.jobId() : name);
        Map<String, String> jobLabels = new LinkedHashMap<>(labels);
        boolean queued = placement.queue() != null && !placement.queue().isBlank();
        if (queued) {
            jobLabels.put(KUEUE_QUEUE_LABEL, placement.queue());
        }
        Map<String, String> annotations = Map.of(JOB_ID_ANNOTATION, request.jobId(), GPU_MODEL_ANNOTATION, gpuModel,
                GPU_COUNT_ANNOTATION, Integer.toString(request.gpuCount()));
        String image = request.image() == null || request.image().isBlank() ? placement.defaultImage() : request.image();
        Quantity gpus = new Quantity(Integer.toString(request.gpuCount()));
        return new JobBuilder()
                .withNewMetadata()
                    .withName(name)
                    .withNamespace(placement.namespace())
                    .withLabels(jobLabels)
                    .withAnnotations(annotations)
                .endMetadata()
                .withNewSpec()
                    // Kueue admits a Job by unsuspending it; without Kueue the Job starts at once.
                    .withSuspend(queued)
                    .withBackoffLimit(0)
                    .withActiveDeadlineSeconds(Math.max(1, request.maxDuration().toSeconds()))
                    .withTtlSecondsAfterFinished(Math.toIntExact(Math.min(Integer.MAX_VALUE, placement.finishedJobTtlSeconds())))
                    .withNewTemplate()
                        .withNewMetadata().withLabels(labels).withAnnotations(annotations).endMetadata()
                        .withNewSpec()
                            .withRestartPolicy("Never")
                            // The job has no business with the cluster's API.
                            .withAutomountServiceAccountToken(false)
                            .withEnableServiceLinks(false)
                            .withNodeSelector(Map.of(GpuNodes.PRODUCT_LABEL, product))
                            .addNewToleration().withKey(GpuNodes.GPU_RESOURCE).withOperator("Exists")
                                .withEffect("NoSchedule").endToleration()
                            .addNewContainer()
                                .withName(CONTAINER)
                                .withImage(image)
                                .withCommand(ReadinessProbe.wrap(request.command()))
                                .withEnv(environment(request))
                                .withNewResources()
                                    .addToLimits(GpuNodes.GPU_RESOURCE, gpus)
                                .endResources()
                            .endContainer()
                        .endSpec()
                    .endTemplate()
                .endSpec()
                .build();
    }

    private static List<EnvVar> environment(LaunchRequest request) {
        List<EnvVar> variables = new ArrayList<>();
        request.environment().entrySet().stream().sorted(Map.Entry.comparingByKey())
                .filter(variable -> !"GPUBROKER_JOB_ID".equals(variable.getKey()))
                .forEach(variable -> variables.add(new EnvVar(variable.getKey(), variable.getValue(), null)));
        variables.add(new EnvVar("GPUBROKER_JOB_ID", request.jobId(), null));
        return variables;
    }

    private static String sha256Hex(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException impossible) {
            throw new IllegalStateException("every JDK has SHA-256", impossible);
        }
    }
}
