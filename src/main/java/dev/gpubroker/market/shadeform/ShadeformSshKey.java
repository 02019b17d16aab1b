package dev.gpubroker.market.shadeform;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.util.Iterator;

import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.writer.openssh.OpenSSHKeyPairResourceWriter;
import org.apache.sshd.common.keyprovider.FileKeyPairProvider;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.gpubroker.config.PrivateFiles;

/**
 * The broker's own SSH key for the VMs it rents at Shadeform: every VM is created letting this key in, so that the
 * broker can watch the job's container itself (Shadeform's API shows only the VM). The key is made on first use and
 * kept in {@code <data>/providers/shadeform-ssh.key} (OpenSSH format, owner-only, like the API key's file); broker
 * instances that follow each other's jobs must share that file. It is never logged, returned or stored elsewhere; only
 * its public half goes to Shadeform.
 */
final class ShadeformSshKey {

    static final String FILE_NAME = "shadeform-ssh.key";

    private static final Logger log = LoggerFactory.getLogger(ShadeformSshKey.class);
    private static final String COMMENT = "gpubroker";
    private static final int RSA_BITS = 3072;

    private final KeyPair keyPair;
    private final Path file;

    private ShadeformSshKey(KeyPair keyPair, Path file) {
        this.keyPair = keyPair;
        this.file = file;
    }

    /** The key in {@code file}, made and written there (owner-only) when there is none yet. */
    static ShadeformSshKey loadOrCreate(Path file) {
        try {
            if (Files.isRegularFile(file)) {
                PrivateFiles.file(file);
                Iterator<KeyPair> keys = new FileKeyPairProvider(file).loadKeys(null).iterator();
                if (!keys.hasNext()) {
                    throw new IllegalStateException(file + " holds no SSH key: remove it and the broker makes a new one");
                }
                return new ShadeformSshKey(keys.next(), file);
            }
            KeyPair made = KeyUtils.generateKeyPair(KeyPairProvider.SSH_RSA, RSA_BITS);
            write(made, file);
            log.info("Provider shadeform: made the broker's SSH key for its VMs in {} (instances that follow each "
                    + "other's jobs must share this file)", file);
            return new ShadeformSshKey(made, file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or write the Shadeform SSH key file " + file, e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot make or read the Shadeform SSH key in " + file + ": " + e.getMessage(), e);
        }
    }

    private static void write(KeyPair keyPair, Path file) throws IOException, GeneralSecurityException {
        PrivateFiles.directory(file.getParent());
        Path partial = file.resolveSibling(file.getFileName() + ".partial");
        Files.deleteIfExists(partial);
        Files.createFile(partial);
        PrivateFiles.file(partial);
        try (OutputStream out = Files.newOutputStream(partial, StandardOpenOption.WRITE, StandardOpenOption.SYNC)) {
            OpenSSHKeyPairResourceWriter.INSTANCE.writePrivateKey(keyPair, COMMENT, null, out);
        }
        // Atomic, so that an instance starting on the same data directory never reads half a key.
        Files.move(partial, file, StandardCopyOption.ATOMIC_MOVE);
    }

    KeyPair keyPair() {
        return keyPair;
    }

    /** The public half in OpenSSH's one-line form ({@code ssh-rsa AAAA... gpubroker}), as Shadeform takes it. */
    String publicKeyLine() {
        return PublicKeyEntry.toString(keyPair.getPublic()) + " " + COMMENT;
    }

    /** Whether an OpenSSH public key line (any comment) is this key's public half. */
    boolean isPublicHalfOf(String line) {
        if (line == null) {
            return false;
        }
        String[] ours = PublicKeyEntry.toString(keyPair.getPublic()).split(" ");
        String[] theirs = line.strip().split("\\s+");
        return theirs.length >= 2 && theirs[0].equals(ours[0]) && theirs[1].equals(ours[1]);
    }

    @Override
    public String toString() {
        return "Shadeform SSH key in " + file;
    }
}
