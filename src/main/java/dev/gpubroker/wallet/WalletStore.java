package dev.gpubroker.wallet;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.ECKeyPair;
import org.web3j.crypto.Keys;
import org.web3j.crypto.WalletUtils;
import org.web3j.crypto.exception.CipherException;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.gpubroker.config.BrokerProperties;
import dev.gpubroker.config.PrivateFiles;
import dev.gpubroker.config.SecretFiles;
import dev.gpubroker.config.StartupRefusal;

/**
 * Keystores in Web3 Secret Storage format under {@code gpubroker.wallets.dir} ({@code <data>/wallets} by default), one
 * file per account, named {@code <label>.json}. Private keys exist in clear only in memory, once a keystore is
 * unlocked, and never leave this class except as web3j {@link Credentials} for signing. The password comes from
 * GPUBROKER_WALLET_PASSWORD, the configured password file, or, with embedded defaults, {@code <wallets>/.password}
 * created with the first keystore.
 *
 * <p>A keystore is created only when asked for by {@link #create}: unlocking one that is missing fails, so a lost
 * keystore is never silently replaced by a new key (docs/payments.md, "Keys and recorded state").
 */
@Component
public class WalletStore {

    public static final String PASSWORD_VARIABLE = "GPUBROKER_WALLET_PASSWORD";
    public static final String DIR_SETTING = "gpubroker.wallets.dir";
    public static final String PASSWORD_FILE_SETTING = "gpubroker.wallets.password-file";
    static final String PASSWORD_FILE = ".password";
    private static final Logger log = LoggerFactory.getLogger(WalletStore.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path dir;
    private final String passwordFromEnvironment;
    private final String configuredPasswordFile;
    private final boolean embeddedDefaults;
    private final Map<String, Credentials> unlocked = new ConcurrentHashMap<>();
    private String password;

    public WalletStore(BrokerProperties properties, Environment environment) throws IOException {
        // Made when the first keystore is written, not here: a start refused for missing keystores leaves no trace.
        this.dir = properties.walletsDir();
        if (Files.isDirectory(dir)) {
            PrivateFiles.directory(dir);
        }
        String fromEnvironment = environment.getProperty(PASSWORD_VARIABLE);
        this.passwordFromEnvironment = fromEnvironment == null || fromEnvironment.isBlank() ? null : fromEnvironment;
        this.configuredPasswordFile = properties.wallets().passwordFile();
        this.embeddedDefaults = properties.embeddedDefaults();
    }

    public Path directory() {
        return dir;
    }

    /** Where the keystore of this label lives (or would). */
    public Path file(String label) {
        if (!label.matches("[a-z0-9_-]{1,80}")) {
            throw new IllegalArgumentException("wallet labels are lower-case letters, digits, dashes and underscores");
        }
        return dir.resolve(label + ".json");
    }

    public boolean exists(String label) {
        return Files.isRegularFile(file(label));
    }

    /** Whether this directory holds any keystore. */
    public boolean hasKeystores() {
        return hasKeystores(dir);
    }

    /**
     * The address a keystore holds, read from its plain {@code address} field without the password (to compare it with
     * what the deployment record and the database say); empty when there is no such keystore.
     */
    public Optional<String> addressIn(String label) {
        return addressInKeystore(file(label));
    }

    /** Unlocked credentials of an existing keystore. Blocking file I/O and scrypt. */
    public synchronized Credentials credentials(String label) {
        Credentials known = unlocked.get(label);
        if (known != null) {
            return known;
        }
        Path file = file(label);
        if (!Files.isRegularFile(file)) {
            throw new IllegalStateException("the keystore " + file + " is missing");
        }
        Credentials credentials = unlock(file);
        unlocked.put(label, credentials);
        return credentials;
    }

    /** A keystore with a fresh key for a label that has none yet; refuses to replace one. Blocking. */
    public synchronized Credentials create(String label) {
        Path file = file(label);
        if (Files.exists(file)) {
            throw new IllegalStateException("the keystore " + file + " exists already: a new key would replace it");
        }
        try {
            PrivateFiles.directory(dir);
            ECKeyPair keys = Keys.createEcKeyPair();
            String created = WalletUtils.generateWalletFile(password(), keys, dir.toFile(), false);
            Files.move(dir.resolve(created), file);
            ownerOnly(file);
            Credentials credentials = Credentials.create(keys);
            log.info("Wallet {} created: {} (keystore {})", label, credentials.getAddress(), file);
            unlocked.put(label, credentials);
            return credentials;
        } catch (IOException | CipherException e) {
            throw new IllegalStateException("could not write the keystore " + file, e);
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("could not create a key pair", e);
        }
    }

    /** The existing keystore unlocked, or a new one when this label has none. For a fresh data directory only. */
    public synchronized Credentials credentialsOrCreate(String label) {
        return exists(label) ? credentials(label) : create(label);
    }

    /**
     * Copies the keystores (and the generated password file) of another directory into this one, which must hold none
     * yet: how a data directory takes over the keystores it used from the old default {@code ./wallets}. The originals
     * stay where they are. Every copy is compared with its original before this returns. Blocking.
     */
    public synchronized List<Path> copyFrom(Path other) throws IOException {
        if (hasKeystores() || !unlocked.isEmpty()) {
            throw new IllegalStateException(dir + " holds keystores already: nothing is copied over them");
        }
        List<Path> copied = new ArrayList<>();
        PrivateFiles.directory(dir);
        try (Stream<Path> files = Files.list(other)) {
            for (Path source : files.filter(Files::isRegularFile)
                    .filter(path -> path.getFileName().toString().endsWith(".json")
                            || path.getFileName().toString().equals(PASSWORD_FILE))
                    .sorted().toList()) {
                Path target = dir.resolve(source.getFileName());
                Path temporary = dir.resolve(source.getFileName() + ".copying");
                Files.deleteIfExists(temporary);
                createOwnerOnly(temporary);
                Files.write(temporary, Files.readAllBytes(source));
                if (!java.util.Arrays.equals(Files.readAllBytes(temporary), Files.readAllBytes(source))) {
                    Files.deleteIfExists(temporary);
                    throw new IOException("the copy of " + source + " differs from its original");
                }
                Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE);
                copied.add(target);
            }
        }
        password = null;
        return copied;
    }

    /** Where the password comes from, for messages: the variable, or the file (which may not exist yet). */
    public String passwordSource() {
        return passwordFromEnvironment != null ? PASSWORD_VARIABLE : passwordFile().toString();
    }

    private Credentials unlock(Path file) {
        try {
            return WalletUtils.loadCredentials(password(), file.toFile());
        } catch (CipherException wrongPassword) {
            throw new StartupRefusal("the keystore " + file + " does not open with the wallet password from "
                    + passwordSource() + ": it was made with another one. Set " + PASSWORD_VARIABLE + " (or "
                    + PASSWORD_FILE_SETTING + ") to the password these keystores were made with", wrongPassword);
        } catch (IOException e) {
            throw new UncheckedIOException("could not read the keystore " + file, e);
        }
    }

    private Path passwordFile() {
        // Beside the keystores by default, so that the two always travel together (a new data directory must not
        // strand them); a deployment with real money sets GPUBROKER_WALLET_PASSWORD or keeps the file elsewhere.
        Path file = configuredPasswordFile.isBlank() ? dir.resolve(PASSWORD_FILE) : Path.of(configuredPasswordFile);
        return file.toAbsolutePath().normalize();
    }

    /** The password, read once; with embedded defaults and no keystore yet, generated into the password file. */
    private synchronized String password() {
        if (password != null) {
            return password;
        }
        if (passwordFromEnvironment != null) {
            password = passwordFromEnvironment;
            return password;
        }
        Path file = passwordFile();
        try {
            if (Files.isReadable(file)) {
                password = SecretFiles.read(file);
                return password;
            }
            if (!configuredPasswordFile.isBlank() || !embeddedDefaults) {
                throw new StartupRefusal("no wallet password: set " + PASSWORD_VARIABLE + " or create " + file);
            }
            if (hasKeystores()) {
                // A new password would never open them: say so rather than create keys nobody can use with them.
                throw new StartupRefusal("the keystores in " + dir + " were made with a password that is not available: "
                        + "set " + PASSWORD_VARIABLE + " (or restore " + file + ")");
            }
            byte[] random = new byte[32];
            new SecureRandom().nextBytes(random);
            String generated = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
            SecretFiles.writeOwnerOnly(file, generated);
            log.info("Wallet password created in {} (mode 600)", file);
            password = generated;
            return password;
        } catch (IOException e) {
            throw new UncheckedIOException("could not read or write the wallet password file " + file, e);
        }
    }

    static boolean hasKeystores(Path dir) {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.anyMatch(path -> path.getFileName().toString().endsWith(".json") && Files.isRegularFile(path));
        } catch (IOException e) {
            throw new UncheckedIOException("could not list " + dir, e);
        }
    }

    /** The {@code address} field of a keystore file, 0x-prefixed, lower case; empty when unreadable or missing. */
    public static Optional<String> addressInKeystore(Path keystore) {
        if (!Files.isRegularFile(keystore)) {
            return Optional.empty();
        }
        try {
            JsonNode address = JSON.readTree(keystore.toFile()).get("address");
            if (address == null || !address.isTextual()) {
                return Optional.empty();
            }
            String hex = address.asText().toLowerCase(java.util.Locale.ROOT);
            return Optional.of(hex.startsWith("0x") ? hex : "0x" + hex);
        } catch (IOException unreadable) {
            return Optional.empty();
        }
    }

    private static void ownerOnly(Path file) throws IOException {
        if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        }
    }

    private static void createOwnerOnly(Path file) throws IOException {
        if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } else {
            Files.createFile(file);
        }
    }
}
