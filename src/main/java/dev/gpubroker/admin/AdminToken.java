package dev.gpubroker.admin;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

import dev.gpubroker.config.SecretFiles;
import dev.gpubroker.config.BrokerProperties;

/**
 * The admin bearer token: GPUBROKER_ADMIN_TOKEN when set, otherwise {@code <data>/admin.token}, generated at the first
 * start. Presented tokens are compared in constant time.
 */
@Component
public class AdminToken {

    public static final String VARIABLE = "GPUBROKER_ADMIN_TOKEN";
    public static final String FILE = "admin.token";
    private static final int TOKEN_BYTES = 32;
    private static final Logger log = LoggerFactory.getLogger(AdminToken.class);

    private final Environment environment;
    private final Path file;
    private volatile byte[] expected;

    public AdminToken(Environment environment, BrokerProperties properties) {
        this.environment = environment;
        this.file = properties.dataDir().resolve(FILE).toAbsolutePath().normalize();
        // Start-up file I/O, once: every admin request afterwards compares against memory.
        ensureAvailable();
    }

    /** Makes sure a token exists, creating the file when needed. */
    private synchronized void ensureAvailable() {
        if (expected != null) {
            return;
        }
        String fromEnvironment = environment.getProperty(VARIABLE);
        try {
            if (fromEnvironment != null && !fromEnvironment.isBlank()) {
                expected = fromEnvironment.strip().getBytes(StandardCharsets.UTF_8);
                log.info("Admin token taken from {}", VARIABLE);
            } else if (Files.isReadable(file)) {
                expected = SecretFiles.read(file).getBytes(StandardCharsets.UTF_8);
                log.info("Admin token read from {}", file);
            } else {
                byte[] random = new byte[TOKEN_BYTES];
                new SecureRandom().nextBytes(random);
                String token = "gpa_" + Base64.getUrlEncoder().withoutPadding().encodeToString(random);
                SecretFiles.writeOwnerOnly(file, token);
                expected = token.getBytes(StandardCharsets.UTF_8);
                log.info("Admin token created in {} (mode 600); send it as 'Authorization: Bearer <token>' to /admin/v1", file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not read or create the admin token at " + file, e);
        }
    }

    public boolean matches(String presented) {
        byte[] reference = expected;
        if (reference == null || presented == null) {
            return false;
        }
        return MessageDigest.isEqual(reference, presented.getBytes(StandardCharsets.UTF_8));
    }
}
