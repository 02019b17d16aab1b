package dev.gpubroker.market.shadeform;

import java.time.Duration;
import java.util.Map;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Shadeform's settings ({@code gpubroker.providers.shadeform.*}); the key itself is never a setting
 * (SHADEFORM_API_KEY or {@code <data>/providers/shadeform.key}).
 * <ul>
 * <li>{@code baseUrl}: the API root (a proxy or a test fake in its place).</li>
 * <li>{@code defaultImage}: the container image of a job whose agent named none.</li>
 * <li>{@code reliability}: the reliability quoted for an underlying cloud not in {@code cloudReliability}, which
 *     maps Shadeform's cloud names ({@code lambdalabs}, {@code hyperstack}, ...) to their own.</li>
 * <li>{@code offerTtl}: how long the broker's offer cache serves one answer of {@code /instances/types}.</li>
 * <li>{@code callTimeout}: one API call.</li>
 * <li>{@code readyTimeout}: from the instance's creation until it must be {@code active}, and again from then until
 *     the job's container has printed a passing readiness probe line; one that does not is deleted and the job is lost
 *     (never billed), so it fails over. It is also the slack of Shadeform's own auto-delete,
 *     set at creation to creation + readyTimeout + the job's limit, should no broker be left to delete it.</li>
 * <li>{@code logRetention}: how long a job's VM is kept after its container exits, so that its agent can still read
 *     the output (it lives in the VM's Docker); the operator pays for that time. Zero deletes it at once.</li>
 * <li>{@code statusPollInterval}: how often the job engine asks where a job stands (each answer costs several API
 *     calls against the operator's rate limit; the broker's own poll interval when that is longer).</li>
 * </ul>
 */
@ConfigurationProperties("gpubroker.providers.shadeform")
public record ShadeformSettings(
        @DefaultValue("https://api.shadeform.ai/v1") String baseUrl,
        @DefaultValue("nvidia/cuda:12.4.1-base-ubuntu22.04") String defaultImage,
        @DefaultValue("0.97") double reliability,
        Map<String, Double> cloudReliability,
        @DefaultValue("15s") Duration offerTtl,
        @DefaultValue("10s") Duration callTimeout,
        @DefaultValue("30m") Duration readyTimeout,
        @DefaultValue("10s") Duration statusPollInterval,
        @DefaultValue("2m") Duration logRetention) {

    public ShadeformSettings {
        if (baseUrl == null || !(baseUrl.startsWith("https://") || baseUrl.startsWith("http://"))) {
            throw new IllegalStateException("gpubroker.providers.shadeform.base-url is an http(s) URL, got " + baseUrl);
        }
        if (defaultImage == null || defaultImage.isBlank()) {
            throw new IllegalStateException("gpubroker.providers.shadeform.default-image names an image");
        }
        cloudReliability = cloudReliability == null ? Map.of() : Map.copyOf(cloudReliability);
        checkProbability("reliability", reliability);
        cloudReliability.forEach((cloud, value) -> checkProbability("cloud-reliability." + cloud, value));
        if (offerTtl == null || offerTtl.isNegative()) {
            throw new IllegalStateException("gpubroker.providers.shadeform.offer-ttl is zero or positive");
        }
        if (logRetention == null || logRetention.isNegative()) {
            throw new IllegalStateException("gpubroker.providers.shadeform.log-retention is zero or positive");
        }
        for (Duration duration : new Duration[] {callTimeout, readyTimeout}) {
            if (duration == null || duration.isNegative() || duration.isZero()) {
                throw new IllegalStateException("gpubroker.providers.shadeform timeouts are positive");
            }
        }
    }

    /** The reliability quoted for offers on this underlying cloud. */
    double reliabilityOf(String cloud) {
        return cloudReliability.getOrDefault(cloud, reliability);
    }

    private static void checkProbability(String name, Double value) {
        if (value == null || !(value >= 0.0 && value <= 1.0)) {
            throw new IllegalStateException("gpubroker.providers.shadeform." + name + " is in [0, 1], got " + value);
        }
    }

    /** The defaults, for tests that change one setting. */
    static ShadeformSettings defaults(String baseUrl) {
        return new ShadeformSettings(baseUrl, "nvidia/cuda:12.4.1-base-ubuntu22.04", 0.97, Map.of(),
                Duration.ofSeconds(15), Duration.ofSeconds(10), Duration.ofMinutes(30), Duration.ofSeconds(10),
                Duration.ofMinutes(2));
    }

    ShadeformSettings withReadyTimeout(Duration timeout) {
        return new ShadeformSettings(baseUrl, defaultImage, reliability, cloudReliability, offerTtl, callTimeout, timeout,
                statusPollInterval, logRetention);
    }

    ShadeformSettings withLogRetention(Duration retention) {
        return new ShadeformSettings(baseUrl, defaultImage, reliability, cloudReliability, offerTtl, callTimeout,
                readyTimeout, statusPollInterval, retention);
    }
}
