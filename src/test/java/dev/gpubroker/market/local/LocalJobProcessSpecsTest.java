package dev.gpubroker.market.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.gpubroker.market.process.ProcessSpec;

/** The argv and environment of a job on this host: docker, podman, or the command itself (in the sandbox). */
class LocalJobProcessSpecsTest {

    private static final ContainerRuntime DOCKER = new ContainerRuntime(ContainerRuntime.Kind.DOCKER, "docker");
    private static final ContainerRuntime PODMAN = new ContainerRuntime(ContainerRuntime.Kind.PODMAN, "podman");
    private static final Map<String, String> AGENT_ENVIRONMENT = Map.of(
            "HF_TOKEN", "hf_secret_value",
            "WANDB_API_KEY", "wandb-secret-value",
            "NVIDIA_VISIBLE_DEVICES", "all");
    private static final List<String> COMMAND = List.of("python", "train.py", "--epochs", "3");
    // What the broker itself runs with: the client gets where its daemon is, never the broker's secrets.
    private static final Map<String, String> BROKER_ENVIRONMENT = Map.of(
            "PATH", "/usr/bin:/bin",
            "DOCKER_HOST", "unix:///run/docker.sock",
            "GPUBROKER_WALLET_PASSWORD", "broker-secret",
            "GPUBROKER_ADMIN_TOKEN", "admin-secret");

    @Test
    void dockerGetsTheGpusByIndexAndTheVariablesFromAnEnvironmentFileNeverItsOwnEnvironment() {
        ProcessSpec.ContainerClient spec = JobProcessSpecs.inContainer(DOCKER, "job_1", List.of(1, 3),
                "pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime", COMMAND, AGENT_ENVIRONMENT, BROKER_ENVIRONMENT);

        assertThat(spec.argv()).containsExactly("docker", "run", "--rm", "--name", "gpubroker-job_1",
                "--gpus", "\"device=1,3\"", "--env-file", "/dev/fd/3",
                "pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime", "python", "train.py", "--epochs", "3");
        assertThat(spec.input()).isEqualTo("""
                GPUBROKER_JOB_ID=job_1
                HF_TOKEN=hf_secret_value
                WANDB_API_KEY=wandb-secret-value
                """);
        assertThat(spec.environment()).as("the client's own environment: the operator's, for the client")
                .isEqualTo(Map.of("PATH", "/usr/bin:/bin", "DOCKER_HOST", "unix:///run/docker.sock"));
        assertNoValueOnTheCommandLine(spec.argv());
    }

    @Test
    void podmanGetsOneCdiDevicePerGpu() {
        ProcessSpec.ContainerClient spec = JobProcessSpecs.inContainer(PODMAN, "job_2", List.of(0, 2),
                "docker.io/library/python:3.12", COMMAND, AGENT_ENVIRONMENT, BROKER_ENVIRONMENT);

        assertThat(spec.argv()).containsExactly("podman", "run", "--rm", "--name", "gpubroker-job_2",
                "--device", "nvidia.com/gpu=0", "--device", "nvidia.com/gpu=2", "--env-file", "/dev/fd/3",
                "docker.io/library/python:3.12", "python", "train.py", "--epochs", "3");
        assertThat(spec.input()).contains("HF_TOKEN=hf_secret_value\n");
        assertThat(spec.environment()).doesNotContainKeys("HF_TOKEN", "GPUBROKER_WALLET_PASSWORD");
        assertNoValueOnTheCommandLine(spec.argv());
    }

    @Test
    void aValueWithALineBreakCannotBeALineOfTheEnvironmentFile() {
        assertThatThrownBy(() -> JobProcessSpecs.inContainer(DOCKER, "job_5", List.of(0), "python:3.12", COMMAND,
                Map.of("KEY", "line one\nINJECTED=1"), BROKER_ENVIRONMENT)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void withoutAnImageTheCommandRunsAsGivenWithItsGpusInTheCudaVariables() {
        ProcessSpec.Command spec = JobProcessSpecs.onHost("job_3", List.of(2, 3), COMMAND, AGENT_ENVIRONMENT);

        assertThat(spec.command()).isEqualTo(COMMAND);
        assertThat(spec.environment()).containsEntry("CUDA_VISIBLE_DEVICES", "2,3")
                .containsEntry("NVIDIA_VISIBLE_DEVICES", "2,3")
                .containsEntry("HF_TOKEN", "hf_secret_value")
                .containsEntry("GPUBROKER_JOB_ID", "job_3");
        assertThat(spec.devices()).allMatch(device -> device.startsWith("/dev/nvidia"));
        assertNoValueOnTheCommandLine(spec.command());
    }

    @Test
    void anImageThatWouldReadAsAnOptionIsNotAnImage() {
        assertThat(JobProcessSpecs.isImageReference("nvcr.io/nvidia/pytorch:24.05-py3")).isTrue();
        assertThat(JobProcessSpecs.isImageReference("localhost:5000/team/trainer@sha256:"
                + "a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4")).isTrue();
        assertThat(JobProcessSpecs.isImageReference("--privileged")).isFalse();
        assertThat(JobProcessSpecs.isImageReference("-v=/:/host")).isFalse();
        assertThat(JobProcessSpecs.isImageReference("ubuntu --privileged")).isFalse();
        assertThatThrownBy(() -> JobProcessSpecs.inContainer(DOCKER, "job_4", List.of(0), "--privileged",
                COMMAND, Map.of(), BROKER_ENVIRONMENT)).isInstanceOf(IllegalArgumentException.class);
    }

    private static void assertNoValueOnTheCommandLine(List<String> argv) {
        assertThat(String.join(" ", argv)).doesNotContain("hf_secret_value", "wandb-secret-value");
    }
}
