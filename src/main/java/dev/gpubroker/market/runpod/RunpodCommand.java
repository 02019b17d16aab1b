package dev.gpubroker.market.runpod;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

import dev.gpubroker.market.remote.ReadinessProbe;

/**
 * The pod's {@code args}: the readiness probe, then the agent's argv, then one line with its exit status. RunPod's v2
 * pod has no exit code of its own (a pod that stopped is just {@code EXITED}), so the job says it: the line
 * {@value #EXIT_PREFIX}{@code <status>} is its last. v2's {@code args} is one string passed to the image's entrypoint,
 * so every word is quoted for a POSIX shell; no shell sees the agent's words unquoted.
 */
final class RunpodCommand {

    static final String EXIT_PREFIX = "GPUBROKER_EXIT ";

    private static final String EXIT_SCRIPT = "\"$@\"; status=$?; echo \"" + EXIT_PREFIX.strip()
            + " $status\"; exit $status";

    private RunpodCommand() {
    }

    /** The argv the container runs: probe → agent's command → exit line. */
    static List<String> argv(List<String> agentCommand) {
        List<String> reporting = new ArrayList<>(List.of("sh", "-c", EXIT_SCRIPT, "gpubroker-exit"));
        reporting.addAll(agentCommand);
        return ReadinessProbe.wrap(reporting);
    }

    /** {@link #argv} as v2's {@code args} string. */
    static String args(List<String> agentCommand) {
        return String.join(" ", argv(agentCommand).stream().map(RunpodCommand::quoted).toList());
    }

    static String quoted(String word) {
        return "'" + word.replace("'", "'\"'\"'") + "'";
    }

    /** The exit status the job printed last, if these (last) lines have it. */
    static OptionalInt exitStatus(List<String> lines) {
        for (int index = lines.size() - 1; index >= 0; index--) {
            String line = lines.get(index);
            if (line.startsWith(EXIT_PREFIX)) {
                try {
                    return OptionalInt.of(Integer.parseInt(line.substring(EXIT_PREFIX.length()).strip()));
                } catch (NumberFormatException notOurs) {
                    return OptionalInt.empty();
                }
            }
        }
        return OptionalInt.empty();
    }

    /** Whether the agent sees this line: the probe's and the exit line are the broker's, not the job's output. */
    static boolean isJobOutput(String line) {
        return !line.startsWith(ReadinessProbe.PREFIX) && !line.startsWith(EXIT_PREFIX);
    }

    static Optional<String> nonBlank(String value) {
        return value == null || value.isBlank() ? Optional.empty() : Optional.of(value);
    }
}
