package dev.gpubroker.market.local;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import dev.gpubroker.market.process.ProcessJobRunner.ProcessSpec;

/**
 * What this host executes for a job: the image in a container that sees only the job's GPUs, or, without an image,
 * the command itself with the CUDA variables naming them. Environment values travel in the process environment and
 * never on the command line, where any user of the host could read them ({@code ps}); a container gets them by name
 * ({@code -e NAME}), which docker and podman fill in from their own environment.
 */
final class JobProcessSpecs {

    static final String JOB_ID_VARIABLE = "GPUBROKER_JOB_ID";
    /** The variables that choose GPUs belong to the provider: an agent's values for them are dropped. */
    static final List<String> GPU_VARIABLES = List.of("CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES");
    private static final Pattern VARIABLE_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    // A registry, repository, tag or digest; never starting with '-', so that an image cannot pass for an option.
    private static final Pattern IMAGE_REFERENCE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._/:@-]{0,299}");

    private JobProcessSpecs() {
    }

    static boolean isImageReference(String image) {
        return IMAGE_REFERENCE.matcher(image).matches();
    }

    static String containerName(String jobId) {
        return "gpubroker-" + jobId;
    }

    /** {@code <runtime> run --rm --name gpubroker-<job> <gpu options> -e NAME... <image> <command...>}. */
    static ProcessSpec inContainer(ContainerRuntime runtime, String jobId, List<Integer> gpuIndices, String image,
            List<String> command, Map<String, String> agentEnvironment) {
        if (!isImageReference(image)) {
            throw new IllegalArgumentException("not an image reference: " + image);
        }
        Map<String, String> environment = jobEnvironment(jobId, agentEnvironment);
        List<String> argv = new ArrayList<>(List.of(runtime.executable(), "run", "--rm", "--name", containerName(jobId)));
        argv.addAll(runtime.gpuOptions(gpuIndices));
        new TreeMap<>(environment).keySet().forEach(name -> {
            argv.add("-e");
            argv.add(name);
        });
        argv.add(image);
        argv.addAll(command);
        return new ProcessSpec(argv, environment);
    }

    /** The command as given, with {@code CUDA_VISIBLE_DEVICES} and {@code NVIDIA_VISIBLE_DEVICES} set to its GPUs. */
    static ProcessSpec onHost(String jobId, List<Integer> gpuIndices, List<String> command,
            Map<String, String> agentEnvironment) {
        Map<String, String> environment = jobEnvironment(jobId, agentEnvironment);
        String devices = gpuIndices.stream().map(String::valueOf).collect(Collectors.joining(","));
        GPU_VARIABLES.forEach(name -> environment.put(name, devices));
        return new ProcessSpec(command, environment);
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
