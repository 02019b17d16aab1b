package dev.gpubroker.market.kubernetes;

import java.time.Duration;
import java.util.Optional;

import dev.gpubroker.market.ProviderFault;
import dev.gpubroker.market.ProviderUnavailableException;
import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.client.KubernetesClientException;

/**
 * The one place where the API server's answers become {@link ProviderFault}s: 401/403 (RBAC, an expired token, a
 * ResourceQuota's "exceeded quota") are the operator's to fix; 429 (API priority and fairness) and 5xx and a server
 * that does not answer are transient, after the {@code retryAfterSeconds} the server gave; 400/422 (a Job the server
 * refuses, such as an image name it cannot parse) are provisioning failures.
 */
final class KubernetesFaults {

    private KubernetesFaults() {
    }

    static ProviderUnavailableException unavailable(String doing, Throwable error) {
        return new ProviderUnavailableException(faultOf(doing, error));
    }

    static ProviderFault faultOf(String doing, Throwable error) {
        if (error instanceof ProviderUnavailableException unavailable) {
            return unavailable.providerFault();
        }
        if (!(error instanceof KubernetesClientException refused)) {
            return new ProviderFault.Transient("the Kubernetes API server could not be asked to " + doing + ": "
                    + error.getClass().getSimpleName());
        }
        int code = refused.getCode();
        String said = "the Kubernetes API server answered " + (code > 0 ? "HTTP " + code : "nothing") + " to "
                + doing + said(refused.getStatus());
        return switch (code) {
            case 401, 403 -> new ProviderFault.QuotaOrAuth(said + " (check the broker's credentials and RBAC role, and the"
                    + " namespace's ResourceQuota: docs/providers/kubernetes.md)");
            case 400, 422 -> new ProviderFault.ProvisioningFailed(said);
            case 429 -> new ProviderFault.Transient(said, retryAfter(refused.getStatus()));
            default -> new ProviderFault.Transient(said, retryAfter(refused.getStatus()));
        };
    }

    private static Optional<Duration> retryAfter(Status status) {
        if (status == null || status.getDetails() == null || status.getDetails().getRetryAfterSeconds() == null
                || status.getDetails().getRetryAfterSeconds() <= 0) {
            return Optional.empty();
        }
        return Optional.of(Duration.ofSeconds(status.getDetails().getRetryAfterSeconds()));
    }

    private static String said(Status status) {
        if (status == null || status.getMessage() == null || status.getMessage().isBlank()) {
            return "";
        }
        String message = status.getMessage();
        return ": " + (message.length() <= 300 ? message : message.substring(0, 300) + "…");
    }
}
