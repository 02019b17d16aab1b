package dev.gpubroker.payments.chain;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;

import dev.gpubroker.support.Scratch;
import org.junit.jupiter.api.Test;

/** The anvil the build packs into the jar, unpacked into the data directory the way a jar started anywhere does it. */
class PackagedAnvilTest {

    @Test
    void theBuildPacksAnvilWithItsDigestAndItUnpacksOwnerOnlyAndRuns() throws Exception {
        PackagedAnvil packaged = PackagedAnvil.inThisJar();
        assertThat(packaged).as("scripts/package-anvil.mjs ran at generate-resources").isNotNull();
        Path bin = Scratch.directory("gpubroker-bin-").resolve("bin");

        Path anvil = packaged.unpackInto(bin);

        assertThat(anvil).isEqualTo(bin.resolve("anvil").toAbsolutePath().normalize());
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(anvil))).isEqualTo("rwx------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(bin))).isEqualTo("rwx------");
        Process version = new ProcessBuilder(anvil.toString(), "--version").redirectErrorStream(true).start();
        assertThat(version.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(new String(version.getInputStream().readAllBytes())).contains(packaged.version());
        try (var left = Files.list(bin)) {
            assertThat(left).as("no half-written file stays behind").containsExactly(anvil);
        }
    }

    @Test
    void aDamagedOrForeignAnvilInTheDataDirectoryIsReplacedByThePackedOne() throws Exception {
        PackagedAnvil packaged = PackagedAnvil.inThisJar();
        Path bin = Scratch.directory("gpubroker-bin-").resolve("bin");
        Path anvil = packaged.unpackInto(bin);
        byte[] original = Files.readAllBytes(anvil);
        Files.writeString(anvil, "#!/bin/sh\necho not anvil\n");

        packaged.unpackInto(bin);

        assertThat(Files.readAllBytes(anvil)).isEqualTo(original);
    }
}
