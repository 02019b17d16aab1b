package dev.gpubroker.market.shadeform;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What the broker reads of a job's container on its VM, through the Docker CLI over SSH, and how it reads it. The VM
 * runs only the job's container (Shadeform starts it from the create's {@code docker_configuration}), so the newest
 * container is the job's. Every time here is the Docker daemon's, on the VM, outside the container: the job cannot
 * write them.
 */
final class ShadeformContainer {

    /** Docker as the VM's user may run it: directly, or through sudo where the user is not in the docker group. */
    private static final String DOCKER = "D=docker; docker info >/dev/null 2>&1 || D='sudo -n docker'; "
            + "C=$($D ps -aq --no-trunc 2>/dev/null | head -n 1); ";

    private static final String NO_CONTAINER = "GPUBROKER_NO_CONTAINER";
    private static final String STATE = "GPUBROKER_STATE ";

    /** How many of the container's first output lines a status poll reads (the readiness probe's line is the first). */
    static final int FIRST_LINES = 20;

    /**
     * The most bytes of them sent back: a job can print one line without end, and the VM stops reading there rather
     * than sending it all over SSH.
     */
    static final int FIRST_BYTES = 32 * 1024;

    /** Docker's {@code FinishedAt} of a container that has not finished. */
    private static final Instant NEVER = Instant.parse("0001-01-01T00:00:00Z");

    private ShadeformContainer() {
    }

    /** The container's state and its first output lines, each stamped by the Docker daemon. */
    static String observeCommand() {
        return DOCKER + "if [ -z \"$C\" ]; then echo " + NO_CONTAINER + "; exit 0; fi; "
                + "$D inspect --format '" + STATE.strip()
                + " {{.State.Status}} {{.State.ExitCode}} {{.State.StartedAt}} {{.State.FinishedAt}}' \"$C\" || exit 3; "
                + "$D logs --timestamps \"$C\" 2>&1 | head -c " + FIRST_BYTES + " | head -n " + FIRST_LINES;
    }

    /**
     * Lines {@code from} (0-based) to {@code from + count} of the container's output, without Docker's stamps, at most
     * {@code maxBytes} of them.
     */
    static String logsCommand(long from, int count, int maxBytes) {
        return DOCKER + "[ -n \"$C\" ] || exit 0; $D logs \"$C\" 2>&1 | tail -n +" + (from + 1) + " | head -n " + count
                + " | head -c " + maxBytes;
    }

    /** The container as {@code docker inspect} shows it; {@code finishedAt} is empty while it has not finished. */
    record State(String status, int exitCode, Instant startedAt, Optional<Instant> finishedAt) {

        boolean finished() {
            return status.equals("exited") || status.equals("dead");
        }
    }

    /** A line of the container's output and when the daemon received it. */
    record StampedLine(Instant at, String text) {
    }

    /** One observation: no container yet (the image is still being pulled), or its state and first lines. */
    record Observation(Optional<State> state, List<StampedLine> firstLines) {

        List<String> texts() {
            return firstLines.stream().map(StampedLine::text).toList();
        }

        /** When the daemon received the first line that starts with {@code prefix}. */
        Optional<Instant> firstLineAt(String prefix) {
            return firstLines.stream().filter(line -> line.text().startsWith(prefix)).findFirst().map(StampedLine::at);
        }
    }

    /** Reads what {@link #observeCommand()} printed; a shape it cannot read is an {@link IllegalArgumentException}. */
    static Observation read(String output) {
        List<String> lines = output.lines().toList();
        if (lines.isEmpty()) {
            throw new IllegalArgumentException("the VM printed nothing for the container's state");
        }
        if (lines.get(0).strip().equals(NO_CONTAINER)) {
            return new Observation(Optional.empty(), List.of());
        }
        if (!lines.get(0).startsWith(STATE)) {
            throw new IllegalArgumentException("the VM printed no container state: " + abbreviate(lines.get(0)));
        }
        String[] fields = lines.get(0).substring(STATE.length()).strip().split("\\s+");
        if (fields.length != 4) {
            throw new IllegalArgumentException("the container's state is not 4 fields: " + abbreviate(lines.get(0)));
        }
        State state;
        try {
            Instant finished = Instant.parse(fields[3]);
            state = new State(fields[0], Integer.parseInt(fields[1]), Instant.parse(fields[2]),
                    finished.equals(NEVER) ? Optional.empty() : Optional.of(finished));
        } catch (NumberFormatException | DateTimeParseException unreadable) {
            throw new IllegalArgumentException("the container's state is unreadable: " + abbreviate(lines.get(0)), unreadable);
        }
        List<StampedLine> first = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            int space = line.indexOf(' ');
            try {
                first.add(space < 0 ? new StampedLine(Instant.parse(line), "")
                        : new StampedLine(Instant.parse(line.substring(0, space)), line.substring(space + 1)));
            } catch (DateTimeParseException notStamped) {
                // A line Docker did not stamp is not one the broker can time: it is no evidence of anything.
            }
        }
        return new Observation(Optional.of(state), List.copyOf(first));
    }

    private static String abbreviate(String text) {
        return text.length() <= 200 ? text : text.substring(0, 200) + "…";
    }
}
