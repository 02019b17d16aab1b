package dev.gpubroker.market.vastai;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import dev.gpubroker.market.remote.ReadinessProbe;

/**
 * What a job's container runs at Vast.ai, and what its output says. Vast reports neither a container's start time
 * nor its exit code, so the job says both itself: after the readiness probe, a small shell prints
 * {@value #STARTED} with the container's clock, runs the agent's argv (under {@code timeout} at the job's limit,
 * where the image has it) and prints {@value #EXIT} with the exit code and time. A container that stops without
 * that line did not end by itself: Vast stopped it (an outbid interruptible instance) or its host went away.
 */
final class VastaiJobScript {

    static final String STARTED = "GPUBROKER_STARTED ";
    static final String EXIT = "GPUBROKER_EXIT ";
    static final String MAX_SECONDS_VARIABLE = "GPUBROKER_MAX_SECONDS";

    private static final String RUN = "printf '" + STARTED.strip() + " %s\\n' \"$(date +%s)\"; "
            + "if command -v timeout >/dev/null 2>&1; then timeout \"$" + MAX_SECONDS_VARIABLE + "\" \"$@\"; "
            + "else \"$@\"; fi; s=$?; printf '" + EXIT.strip() + " %s %s\\n' \"$s\" \"$(date +%s)\"; exit \"$s\"";

    private VastaiJobScript() {
    }

    /** The container's argv: the probe, then the run shell, then the agent's argv unchanged. */
    static List<String> argv(List<String> command) {
        List<String> run = new ArrayList<>(List.of("sh", "-c", RUN, "gpubroker-run"));
        run.addAll(command);
        return ReadinessProbe.wrap(run);
    }

    /** The broker's own lines, never shown to the agent. */
    static boolean isBrokerLine(String line) {
        return line.startsWith(ReadinessProbe.PREFIX) || line.startsWith(STARTED) || line.startsWith(EXIT);
    }

    static Optional<Instant> startedAt(List<String> lines) {
        return lines.stream().filter(line -> line.startsWith(STARTED)).findFirst()
                .flatMap(line -> epoch(line.substring(STARTED.length()).strip()));
    }

    /** The job's own end: its exit code and when, from the last {@value #EXIT} line. */
    record Exit(int code, Optional<Instant> at) {
    }

    static Optional<Exit> exit(List<String> lines) {
        for (int index = lines.size() - 1; index >= 0; index--) {
            String line = lines.get(index);
            if (line.startsWith(EXIT)) {
                String[] parts = line.substring(EXIT.length()).strip().split("\\s+");
                try {
                    return Optional.of(new Exit(Integer.parseInt(parts[0]),
                            parts.length > 1 ? epoch(parts[1]) : Optional.empty()));
                } catch (NumberFormatException notOurs) {
                    return Optional.empty();
                }
            }
        }
        return Optional.empty();
    }

    private static Optional<Instant> epoch(String seconds) {
        try {
            return Optional.of(Instant.ofEpochSecond(Long.parseLong(seconds)));
        } catch (NumberFormatException notANumber) {
            return Optional.empty();
        }
    }
}
