package dev.gpubroker.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.gpubroker.support.BrokerJar;

/**
 * The jar started by a Java older than 21 (Java 17 is the default on many machines, and Claude Desktop runs plain
 * {@code java}): one plain line on stderr naming the Java needed, the Java running and how to point to a newer one, and
 * exit code 1, never an {@code UnsupportedClassVersionError}.
 */
class OldJavaIT {

    private static final Pattern JAVA_VERSION = Pattern.compile("(?m)^JAVA_VERSION=\"(\\d+)");

    @ParameterizedTest
    @ValueSource(strings = {"--help", "--stdio", "--server.port=0"})
    void aJavaOlderThan21GetsOnePlainLineSayingWhichJavaIsNeededAndHowToPointToIt(String argument) throws Exception {
        Optional<Path> oldJava = installedJavaOlderThan21();
        assumeTrue(oldJava.isPresent(), "no JDK 17 to 20 under /usr/lib/jvm: nothing to start the jar with");
        Path dataDir = BrokerJar.newDataDir();

        BrokerJar.Result result = BrokerJar.run(List.of(oldJava.get().toString(), "-jar", BrokerJar.jar().toString(), argument),
                Map.of("GPUBROKER_DATA_DIR", dataDir.toString()), Duration.ofSeconds(60));

        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.output().strip().lines()).as(result.output()).hasSize(1);
        assertThat(result.output()).contains("GPU Broker needs Java 21 or newer").contains(oldJava.get().toString())
                .contains("JAVA_HOME").contains("full path").doesNotContain("Exception").doesNotContain("Error");
        try (Stream<Path> files = Files.list(dataDir)) {
            assertThat(files).as("nothing was started, so nothing was written").isEmpty();
        }
    }

    /** A JDK 17 to 20 installed the Debian way, found by its release file. */
    private static Optional<Path> installedJavaOlderThan21() throws IOException {
        Path jvms = Path.of("/usr/lib/jvm");
        if (!Files.isDirectory(jvms)) {
            return Optional.empty();
        }
        try (Stream<Path> homes = Files.list(jvms)) {
            return homes.filter(home -> Files.isExecutable(home.resolve("bin/java")))
                    .filter(home -> {
                        int feature = featureOf(home);
                        return feature >= 17 && feature < 21;
                    })
                    .map(OldJavaIT::realJava)
                    .sorted()
                    .findFirst();
        }
    }

    /** The java the JVM will name as its own: links resolved (Debian links java-1.17.0-openjdk-amd64 to the real one). */
    private static Path realJava(Path javaHome) {
        try {
            return javaHome.resolve("bin/java").toRealPath();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static int featureOf(Path javaHome) {
        try {
            Matcher matcher = JAVA_VERSION.matcher(Files.readString(javaHome.resolve("release")));
            return matcher.find() ? Integer.parseInt(matcher.group(1)) : 0;
        } catch (IOException noReleaseFile) {
            return 0;
        }
    }
}
