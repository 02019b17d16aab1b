package dev.gpubroker.market;

import java.util.List;

/**
 * A page of a job's output lines. {@code nextCursor} continues after the last line; {@code complete} says these are
 * the last lines there will be: the job ended where it ran and its output is closed.
 *
 * <p>From a provider, a null {@code nextCursor} means it has no output of the job at all (not launched yet, or no
 * trace of it); a provider that knows the end gives both the cursor past the last line and {@code complete}, so that
 * the job's owner can keep a reader reading until it has recorded the job's end too. To an agent, a null
 * {@code nextCursor} is the end of the output ({@code JobService.logs}).
 */
public record LogPage(List<String> lines, String nextCursor, boolean complete) {

    public LogPage {
        lines = List.copyOf(lines);
    }

    /** A page that is complete exactly when it has no cursor to read on with. */
    public LogPage(List<String> lines, String nextCursor) {
        this(lines, nextCursor, nextCursor == null);
    }
}
