package dev.gpubroker.market.remote;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

import dev.gpubroker.market.GpuModelNames;

/**
 * Billing starts only when the GPU is really there. A job at a real provider starts with this probe: the container
 * runs {@code nvidia-smi} first and prints one line ({@value #PREFIX} followed by each GPU's name and memory), then
 * runs the agent's command in its place ({@code exec}). The provider reports the job billable only once that line is
 * in the job's output and lists the promised model, at least the promised count; a missing driver or another model
 * is a provisioning failure, never billed, and the job fails over.
 */
public final class ReadinessProbe {

    /** The probe line's start: the job's own output can print it too, so only the first such line counts. */
    public static final String PREFIX = "GPUBROKER_READINESS ";

    private static final String SCRIPT = "printf '" + PREFIX.strip() + " %s\\n' \"$(nvidia-smi "
            + "--query-gpu=name,memory.total --format=csv,noheader,nounits 2>&1 | tr '\\n' ';')\"; exec \"$@\"";

    private ReadinessProbe() {
    }

    /** The container's command: the probe, then the agent's argv, unchanged (no shell sees the agent's words). */
    public static List<String> wrap(List<String> command) {
        List<String> wrapped = new ArrayList<>(List.of("sh", "-c", SCRIPT, "gpubroker-job"));
        wrapped.addAll(command);
        return List.copyOf(wrapped);
    }

    /** What the probe found: passed, or why not; {@code seen} is what nvidia-smi listed (for {@code job_status}). */
    public record Result(boolean passed, String seen, String reason) {

        public Result {
            Objects.requireNonNull(seen, "seen");
            Objects.requireNonNull(reason, "reason");
        }
    }

    /** The probe's result from the job's first output lines, or empty while its line has not appeared. */
    public static Optional<Result> read(List<String> lines, String promisedGpu, int promisedCount) {
        return lines.stream().filter(line -> line.startsWith(PREFIX)).findFirst()
                .map(line -> judge(line.substring(PREFIX.length()).strip(), promisedGpu, promisedCount));
    }

    private static Result judge(String listed, String promisedGpu, int promisedCount) {
        int matching = 0;
        List<String> models = new ArrayList<>();
        for (String gpu : listed.split(";")) {
            if (gpu.isBlank()) {
                continue;
            }
            int comma = gpu.lastIndexOf(',');
            Optional<String> model = Optional.empty();
            if (comma > 0) {
                try {
                    model = GpuModelNames.modelOf(gpu.substring(0, comma).strip(),
                            Integer.parseInt(gpu.substring(comma + 1).strip()));
                } catch (NumberFormatException notAGpuLine) {
                    // nvidia-smi printed an error instead ("command not found", "NVIDIA-SMI has failed …").
                }
            }
            models.add(model.orElse(gpu.strip()));
            if (model.filter(promisedGpu::equals).isPresent()) {
                matching++;
            }
        }
        String seen = listed.isEmpty() ? "nothing" : String.join(", ", models);
        if (matching >= promisedCount) {
            return new Result(true, seen, promisedCount + " x " + promisedGpu + " found by nvidia-smi");
        }
        return new Result(false, seen, "the readiness probe found " + matching + " x " + promisedGpu + " where "
                + promisedCount + " were promised (nvidia-smi listed: " + abbreviate(seen) + ")");
    }

    private static String abbreviate(String text) {
        return text.length() <= 200 ? text : text.substring(0, 200) + "…";
    }
}
