package dev.gpubroker.payments.wallet;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.ECKeyPair;
import org.web3j.crypto.Keys;
import org.web3j.crypto.WalletUtils;
import org.web3j.crypto.exception.CipherException;

import dev.gpubroker.config.BrokerProperties;
import dev.gpubroker.config.PrivateFiles;
import dev.gpubroker.config.SecretFiles;

/**
 * Keystores in Web3 Secret Storage format under {@code gpubroker.wallets.dir}, one file per account, named
 * {@code <label>.json}. Private keys exist in clear only in memory, once a keystore is unlocked, and never leave
 * this class except as web3j {@link Credentials} for signing. The password comes from GPUBROKER_WALLET_PASSWORD, the
 * configured password file, or, with embedded defaults, {@code <wallets>/.password} created at first start.
 */
@Component
public class WalletStore {

    public static final String PASSWORD_VARIABLE = "GPUBROKER_WALLET_PASSWORD";
    private static final Logger log = LoggerFactory.getLogger(WalletStore.class);

    private final Path dir;
    private final String password;
    private final Map<String, Credentials> unlocked = new ConcurrentHashMap<>();

    public WalletStore(BrokerProperties properties, Environment environment) throws IOException {
        this.dir = PrivateFiles.directory(properties.wallets().dir());
        this.password = password(properties, environment, dir);
    }

    /** The address of the keystore under this label, created with a fresh key when there is none yet. */
    public synchronized String addressOf(String label) {
        return credentials(label).getAddress();
    }

    public boolean exists(String label) {
        return Files.isRegularFile(file(label));
    }

    /** Unlocked credentials for signing; creates the keystore when it does not exist yet. Blocking file I/O and scrypt. */
    public synchronized Credentials credentials(String label) {
        return unlocked.computeIfAbsent(label, this::loadOrCreate);
    }

    private Credentials loadOrCreate(String label) {
        Path file = file(label);
        try {
            if (!Files.isRegularFile(file)) {
                ECKeyPair keys = Keys.createEcKeyPair();
                String created = WalletUtils.generateWalletFile(password, keys, dir.toFile(), false);
                Files.move(dir.resolve(created), file);
                ownerOnly(file);
                log.info("Wallet {} created: {} (keystore {})", label, Credentials.create(keys).getAddress(), file);
            }
            return WalletUtils.loadCredentials(password, file.toFile());
        } catch (CipherException wrongPassword) {
            throw new IllegalStateException("the keystore " + file + " does not open with the configured wallet password ("
                    + PASSWORD_VARIABLE + " or the password file); it was made with another one", wrongPassword);
        } catch (IOException e) {
            throw new UncheckedIOException("could not read or write the keystore " + file, e);
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("could not create a key pair", e);
        }
    }

    private static void ownerOnly(Path file) throws IOException {
        if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        }
    }

    private Path file(String label) {
        if (!label.matches("[a-z0-9_-]{1,80}")) {
            throw new IllegalArgumentException("wallet labels are lower-case letters, digits, dashes and underscores");
        }
        return dir.resolve(label + ".json");
    }

    private static String password(BrokerProperties properties, Environment environment, Path dir) throws IOException {
        String fromEnvironment = environment.getProperty(PASSWORD_VARIABLE);
        if (fromEnvironment != null && !fromEnvironment.isBlank()) {
            return fromEnvironment;
        }
        String configured = properties.wallets().passwordFile();
        // Beside the keystores by default, so that the two always travel together (a new data directory must not
        // strand them); a deployment with real money sets GPUBROKER_WALLET_PASSWORD or keeps the file elsewhere.
        Path file = configured.isBlank() ? dir.resolve(".password") : Path.of(configured);
        file = file.toAbsolutePath().normalize();
        if (Files.isReadable(file)) {
            return SecretFiles.read(file);
        }
        if (!configured.isBlank() || !properties.embeddedDefaults()) {
            throw new IllegalStateException("no wallet password: set " + PASSWORD_VARIABLE + " or create " + file);
        }
        try (var existing = Files.list(dir)) {
            if (existing.anyMatch(path -> path.toString().endsWith(".json"))) {
                // A new password would never open them: say so rather than create keys nobody can use with them.
                throw new IllegalStateException("the keystores in " + dir + " were made with a password that is not "
                        + "available: set " + PASSWORD_VARIABLE + " (or restore " + file + "), or move them away");
            }
        }
        byte[] random = new byte[32];
        new SecureRandom().nextBytes(random);
        String generated = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
        SecretFiles.writeOwnerOnly(file, generated);
        log.info("Wallet password created in {} (mode 600)", file);
        return generated;
    }

}
