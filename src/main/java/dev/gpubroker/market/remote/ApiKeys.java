package dev.gpubroker.market.remote;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds a provider's API key: the environment variable first (e.g. {@code RUNPOD_API_KEY}), else the file
 * {@code <data>/providers/<provider>.key}. No key: the provider is simply not offered.
 */
public final class ApiKeys {

    private static final Logger log = LoggerFactory.getLogger(ApiKeys.class);

    private final Map<String, String> environment;
    private final Path dataDir;

    public ApiKeys(Map<String, String> environment, Path dataDir) {
        this.environment = Map.copyOf(environment);
        this.dataDir = dataDir;
    }

    /** The key file's place for this provider: {@code <data>/providers/<provider>.key}. */
    public Path fileFor(String provider) {
        return dataDir.resolve("providers").resolve(provider + ".key").toAbsolutePath().normalize();
    }

    /** Another file of a provider's account in the data directory, e.g. {@code <data>/providers/shadeform-ssh.key}. */
    public Path accountFile(String fileName) {
        return dataDir.resolve("providers").resolve(fileName).toAbsolutePath().normalize();
    }

    public Optional<ApiKey> find(String provider, String environmentVariable) {
        String fromEnvironment = environment.get(environmentVariable);
        if (fromEnvironment != null && !fromEnvironment.isBlank()) {
            return Optional.of(new ApiKey(fromEnvironment.strip(), "environment variable " + environmentVariable));
        }
        Path file = fileFor(provider);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            warnIfOthersCanRead(file);
            String value = Files.readString(file, StandardCharsets.UTF_8).strip();
            if (value.isEmpty()) {
                log.warn("Provider {}: {} is empty; the provider is not offered", provider, file);
                return Optional.empty();
            }
            return Optional.of(new ApiKey(value, file.toString()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read provider " + provider + "'s API key file " + file, e);
        }
    }

    private static void warnIfOthersCanRead(Path file) throws IOException {
        try {
            Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(file);
            if (permissions.contains(PosixFilePermission.GROUP_READ) || permissions.contains(PosixFilePermission.OTHERS_READ)) {
                log.warn("{} can be read by other users of this machine: chmod 600 it", file);
            }
        } catch (UnsupportedOperationException notPosix) {
            // Not a POSIX file system: nothing to check.
        }
    }
}
