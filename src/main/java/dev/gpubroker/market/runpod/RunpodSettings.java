package dev.gpubroker.market.runpod;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * RunPod's settings ({@code gpubroker.providers.runpod.*}); the key itself is never a setting (RUNPOD_API_KEY or
 * {@code <data>/providers/runpod.key}).
 * <ul>
 * <li>{@code baseUrl}: the REST API v2 root (a proxy or a test fake in its place).</li>
 * <li>{@code defaultImage}: the container image of a job whose agent named none.</li>
 * <li>{@code containerDiskGb}: the pod's container disk ({@code disk}), wiped with the pod.</li>
 * <li>{@code secureReliability}, {@code communityReliability}: the reliability quoted for each cloud's offers.</li>
 * <li>{@code callTimeout}: one API call; {@code logWindow}: how long one read of the log stream waits for lines.</li>
 * <li>{@code offerTtl}: how long its catalog is served from the broker's offer cache (one upstream call per TTL
 *     however many agents ask; availability is re-checked at reserve).</li>
 * <li>{@code readyTimeout}: from the pod's creation until the readiness probe must have passed; a pod not ready by
 *     then is terminated and the job is lost (never billed), so it fails over.</li>
 * <li>{@code statusPollInterval}: how often the job engine asks where a job stands (each answer costs several API
 *     calls against the operator's rate limit; the broker's own poll interval when that is longer).</li>
 * </ul>
 */
@ConfigurationProperties("gpubroker.providers.runpod")
public record RunpodSettings(
        @DefaultValue("https://api.runpod.io/v2") String baseUrl,
        @DefaultValue("nvidia/cuda:12.4.1-base-ubuntu22.04") String defaultImage,
        @DefaultValue("20") int containerDiskGb,
        @DefaultValue("0.99") double secureReliability,
        @DefaultValue("0.95") double communityReliability,
        @DefaultValue("10s") Duration callTimeout,
        @DefaultValue("2s") Duration logWindow,
        @DefaultValue("15m") Duration readyTimeout,
        @DefaultValue("15s") Duration offerTtl,
        @DefaultValue("10s") Duration statusPollInterval) {

    public RunpodSettings {
        if (baseUrl == null || !(baseUrl.startsWith("https://") || baseUrl.startsWith("http://"))) {
            throw new IllegalStateException("gpubroker.providers.runpod.base-url is an http(s) URL, got " + baseUrl);
        }
        if (defaultImage == null || defaultImage.isBlank()) {
            throw new IllegalStateException("gpubroker.providers.runpod.default-image names an image");
        }
        if (containerDiskGb < 1) {
            throw new IllegalStateException("gpubroker.providers.runpod.container-disk-gb is at least 1");
        }
        for (double reliability : new double[] {secureReliability, communityReliability}) {
            if (!(reliability >= 0.0 && reliability <= 1.0)) {
                throw new IllegalStateException("gpubroker.providers.runpod reliabilities are in [0, 1], got "
                        + reliability);
            }
        }
        for (Duration duration : new Duration[] {callTimeout, logWindow, readyTimeout}) {
            if (duration == null || duration.isNegative() || duration.isZero()) {
                throw new IllegalStateException("gpubroker.providers.runpod timeouts are positive");
            }
        }
    }

    /** The defaults, for tests that change one setting. */
    static RunpodSettings defaults(String baseUrl) {
        return new RunpodSettings(baseUrl, "nvidia/cuda:12.4.1-base-ubuntu22.04", 20, 0.99, 0.95,
                Duration.ofSeconds(10), Duration.ofSeconds(2), Duration.ofMinutes(15), Duration.ofSeconds(15), Duration.ofSeconds(10));
    }
}
