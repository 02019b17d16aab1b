package dev.gpubroker.support;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/** Debian's chromium, which the browser tests drive through playwright-core (no browser download). */
public final class Chromium {

    public static final Path EXECUTABLE = Path.of("/usr/bin/chromium");

    private Chromium() {
    }

    /** On CI a missing browser fails the test (.ci/run installs it); elsewhere the test is skipped, saying why. */
    public static void requireInstalled() {
        if (Files.isExecutable(EXECUTABLE)) {
            return;
        }
        String ci = System.getenv("CI");
        if (ci != null && !ci.isBlank() && !ci.equalsIgnoreCase("false")) {
            fail(EXECUTABLE + " is missing on CI (.ci/run installs the chromium package)");
        }
        assumeTrue(false, "not run: " + EXECUTABLE + " is missing (apt-get install chromium)");
    }
}
