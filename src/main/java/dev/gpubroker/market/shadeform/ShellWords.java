package dev.gpubroker.market.shadeform;

import java.util.List;
import java.util.stream.Collectors;

/**
 * Shadeform's {@code docker_configuration.args} is one string, given to {@code docker run} after the image on the VM
 * by a shell script. Each of the job's argv words is single-quoted, so the agent's words reach the container unchanged
 * and no shell on the VM interprets them.
 */
final class ShellWords {

    private ShellWords() {
    }

    static String join(List<String> argv) {
        return argv.stream().map(ShellWords::quote).collect(Collectors.joining(" "));
    }

    static String quote(String word) {
        return "'" + word.replace("'", "'\\''") + "'";
    }
}
