package dev.gpubroker.payments.chain;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Properties;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.gpubroker.config.PrivateFiles;
import dev.gpubroker.config.StartupRefusal;

/**
 * The anvil binary the build packed into the jar (scripts/package-anvil.mjs), with the version, size and SHA-256 it
 * recorded. On first use it is unpacked into {@code <data>/bin/anvil} (owner-only, executable); every start checks the
 * unpacked file against the recorded digest and unpacks it again when it differs (a newer jar, a damaged file), so the
 * server never runs a binary other than the one it was built with.
 */
final class PackagedAnvil {

    static final String RESOURCE_DIRECTORY = "gpubroker/anvil/linux-x86_64/";
    static final String SETTING = "gpubroker.chain.anvil";
    private static final Logger log = LoggerFactory.getLogger(PackagedAnvil.class);
    private static final int BUFFER_BYTES = 1 << 16;

    private final String version;
    private final long sizeBytes;
    private final String sha256;

    private PackagedAnvil(String version, long sizeBytes, String sha256) {
        this.version = version;
        this.sizeBytes = sizeBytes;
        this.sha256 = sha256;
    }

    /** The anvil packed into this jar, or null when there is none (a build that skipped the step, an IDE run). */
    static PackagedAnvil inThisJar() throws IOException {
        try (InputStream in = resource("anvil.properties")) {
            if (in == null) {
                return null;
            }
            Properties recorded = new Properties();
            recorded.load(in);
            return new PackagedAnvil(recorded.getProperty("version"), Long.parseLong(recorded.getProperty("size")),
                    recorded.getProperty("sha256"));
        }
    }

    /** Whether this host can run the packed binary: it is anvil for Linux on x86-64. */
    static boolean runsHere() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        return os.startsWith("linux") && (arch.equals("amd64") || arch.equals("x86_64"));
    }

    String version() {
        return version;
    }

    /** {@code <binDir>/anvil}, unpacked and verified; unpacked again when the file there is not this one. Blocking. */
    Path unpackInto(Path binDir) throws IOException {
        Path target = PrivateFiles.directory(binDir).resolve("anvil");
        if (Files.isRegularFile(target) && Files.size(target) == sizeBytes && sha256.equals(digestOf(target))
                && Files.isExecutable(target)) {
            return target;
        }
        Path temporary = target.resolveSibling("anvil.unpacking-" + ProcessHandle.current().pid());
        Files.deleteIfExists(temporary);
        if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            Files.createFile(temporary, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } else {
            Files.createFile(temporary);
        }
        String unpackedSha256;
        try (InputStream packed = resource("anvil"); OutputStream out = Files.newOutputStream(temporary)) {
            if (packed == null) {
                throw new StartupRefusal("this jar's anvil.properties names a packed anvil, but the binary is missing: "
                        + "the jar is damaged; build it again (mvn package)");
            }
            DigestInputStream digesting = new DigestInputStream(packed, sha256Digest());
            digesting.transferTo(out);
            unpackedSha256 = HexFormat.of().formatHex(digesting.getMessageDigest().digest());
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(temporary);
            throw e;
        }
        if (!sha256.equals(unpackedSha256)) {
            Files.deleteIfExists(temporary);
            throw new StartupRefusal("the anvil packed in this jar has SHA-256 " + unpackedSha256 + ", not the " + sha256
                    + " recorded when it was built: the jar is damaged; build it again (mvn package)");
        }
        Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        log.info("Embedded chain: anvil {} unpacked from the jar into {} (SHA-256 {} checked)", version, target, sha256);
        return target;
    }

    private static String digestOf(Path file) throws IOException {
        MessageDigest digest = sha256Digest();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[BUFFER_BYTES];
            for (int read = in.read(buffer); read >= 0; read = in.read(buffer)) {
                digest.update(buffer, 0, read);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private static MessageDigest sha256Digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java has SHA-256", e);
        }
    }

    private static InputStream resource(String name) {
        return PackagedAnvil.class.getClassLoader().getResourceAsStream(RESOURCE_DIRECTORY + name);
    }
}
