package dev.gpubroker.market;

import java.util.List;

/** A page of a job's output lines; {@code nextCursor} continues after the last line (null at the current end). */
public record LogPage(List<String> lines, String nextCursor) {

    public LogPage {
        lines = List.copyOf(lines);
    }
}
