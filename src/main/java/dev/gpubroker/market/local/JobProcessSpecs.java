package dev.gpubroker.market.local;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import dev.gpubroker.market.process.ProcessSpec;

/**
 * What this host executes for a job: the image in a container that sees only the job's GPUs, or, without an image,
 * the command itself in the job sandbox with the CUDA variables naming its GPUs and the NVIDIA device nodes it needs.
 * Environment values never appear on a command line, where any user of the host could read them ({@code ps}). A
 * container runtime's client never gets them in its own environment either (where they could steer the client, which
 * runs with the broker's privileges): it reads them from an environment file on descriptor 3
 * ({@code --env-file /dev/fd/3}), written to it by the broker through a pipe, never to disk.
 */
final class JobProcessSpecs {

    static final String JOB_ID_VARIABLE = "GPUBROKER_JOB_ID";
    /** The variables that choose GPUs belong to the provider: an agent may not set them. */
    static final List<String> GPU_VARIABLES = List.of("CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES");
    private static final Pattern VARIABLE_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    // A registry, repository, tag or digest; never starting with '-', so that an image cannot pass for an option.
    private static final Pattern IMAGE_REFERENCE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._/:@-]{0,299}");
    // The broker's own variables a runtime client may need (where its daemon is, its configuration, registry
    // credentials, proxies): the operator's, passed on; nothing else of the broker's environment is.
    private static final Set<String> CLIENT_VARIABLES = Set.of("PATH", "HOME", "USER", "LANG", "LC_ALL", "TZ",
            "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "DBUS_SESSION_BUS_ADDRESS", "REGISTRY_AUTH_FILE",
            "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy");
    private static final List<String> CLIENT_VARIABLE_PREFIXES = List.of("DOCKER_", "CONTAINER_", "CONTAINERS_");
    // The NVIDIA driver's control and unified-memory nodes every CUDA program opens, beside its GPUs' own.
    private static final List<String> NVIDIA_CONTROL_DEVICES = List.of("/dev/nvidiactl", "/dev/nvidia-uvm",
            "/dev/nvidia-uvm-tools", "/dev/nvidia-modeset", "/dev/nvidia-caps");
    private static final Pattern NVIDIA_GPU_DEVICE = Pattern.compile("nvidia[0-9]+");

    private JobProcessSpecs() {
    }

    static boolean isImageReference(String image) {
        return IMAGE_REFERENCE.matcher(image).matches();
    }

    static String containerName(String jobId) {
        return "gpubroker-" + jobId;
    }

    /**
     * {@code <runtime> run --rm --name gpubroker-<job> <gpu options> --env-file /dev/fd/3 <image> <command...>}, run
     * with the operator's variables for the client, the job's as the environment file.
     */
    static ProcessSpec.ContainerClient inContainer(ContainerRuntime runtime, String jobId, List<Integer> gpuIndices,
            String image, List<String> command, Map<String, String> agentEnvironment, Map<String, String> brokerEnvironment) {
        if (!isImageReference(image)) {
            throw new IllegalArgumentException("not an image reference: " + image);
        }
        Map<String, String> environment = jobEnvironment(jobId, agentEnvironment);
        List<String> argv = new ArrayList<>(List.of(runtime.executable(), "run", "--rm", "--name", containerName(jobId)));
        argv.addAll(runtime.gpuOptions(gpuIndices));
        argv.addAll(List.of("--env-file", "/dev/fd/3"));
        argv.add(image);
        argv.addAll(command);
        return new ProcessSpec.ContainerClient(argv, clientEnvironment(brokerEnvironment), environmentFile(environment));
    }

    /**
     * The command as given, in the sandbox, with {@code CUDA_VISIBLE_DEVICES} and {@code NVIDIA_VISIBLE_DEVICES} set to
     * its GPUs, and the NVIDIA device nodes of this host.
     */
    static ProcessSpec.Command onHost(String jobId, List<Integer> gpuIndices, List<String> command,
            Map<String, String> agentEnvironment) {
        Map<String, String> environment = jobEnvironment(jobId, agentEnvironment);
        String devices = gpuIndices.stream().map(String::valueOf).collect(Collectors.joining(","));
        GPU_VARIABLES.forEach(name -> environment.put(name, devices));
        return new ProcessSpec.Command(command, environment, nvidiaDevices());
    }

    /**
     * This host's NVIDIA device nodes: the control nodes and every GPU's. A job sees all GPUs' nodes, as it
     * did on the host: {@code CUDA_VISIBLE_DEVICES} keeps it to its own (docs/local-provider.md says what that does not
     * enforce).
     */
    static List<String> nvidiaDevices() {
        List<String> devices = new ArrayList<>();
        NVIDIA_CONTROL_DEVICES.stream().filter(device -> Files.exists(Path.of(device))).forEach(devices::add);
        try (DirectoryStream<Path> nodes = Files.newDirectoryStream(Path.of("/dev"), "nvidia*")) {
            for (Path node : nodes) {
                if (NVIDIA_GPU_DEVICE.matcher(node.getFileName().toString()).matches()) {
                    devices.add(node.toString());
                }
            }
        } catch (IOException e) {
            // No /dev to list: no devices.
        }
        return devices.stream().sorted().toList();
    }

    /** The broker's variables a runtime client may need, and no others. */
    static Map<String, String> clientEnvironment(Map<String, String> brokerEnvironment) {
        Map<String, String> client = new HashMap<>();
        brokerEnvironment.forEach((name, value) -> {
            if (CLIENT_VARIABLES.contains(name) || CLIENT_VARIABLE_PREFIXES.stream().anyMatch(name::startsWith)) {
                client.put(name, value);
            }
        });
        return client;
    }

    /** {@code NAME=value} lines, as docker's and podman's {@code --env-file} read them. */
    static String environmentFile(Map<String, String> environment) {
        StringBuilder file = new StringBuilder();
        new TreeMap<>(environment).forEach((name, value) -> {
            if (value.indexOf('\n') >= 0 || value.indexOf('\r') >= 0 || value.indexOf('\0') >= 0) {
                // The environment rule refuses such values for containers at run; one here is a bug upstream.
                throw new IllegalArgumentException("the value of " + name + " cannot be a line of an environment file");
            }
            file.append(name).append('=').append(value).append('\n');
        });
        return file.toString();
    }

    private static Map<String, String> jobEnvironment(String jobId, Map<String, String> agentEnvironment) {
        Map<String, String> environment = new HashMap<>();
        agentEnvironment.forEach((name, value) -> {
            // The run tool's schema allows only such names; anything else here is a bug upstream.
            if (!VARIABLE_NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("not an environment variable name: '" + name + "'");
            }
            if (!GPU_VARIABLES.contains(name)) {
                environment.put(name, value);
            }
        });
        environment.put(JOB_ID_VARIABLE, jobId);
        return environment;
    }
}
