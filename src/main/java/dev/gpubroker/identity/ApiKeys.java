package dev.gpubroker.identity;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;

/**
 * Agent API keys: 256 random bits with a recognisable prefix (so leaked keys can be found by secret scanners),
 * stored only as SHA-256. A slow password hash buys nothing for a key with this much entropy.
 */
public final class ApiKeys {

    public static final String PREFIX = "gpb_";
    private static final int KEY_BYTES = 32;
    private static final int MAX_KEY_LENGTH = 200;
    private static final SecureRandom RANDOM = new SecureRandom();
    /**
     * Cloned for each hash: looking SHA-256 up among the security providers on every call was more than half of
     * hashing a presented key (HotPathBenchmark's recording), and every agent call hashes one.
     */
    private static final MessageDigest SHA_256 = sha256();

    private ApiKeys() {
    }

    public static String newKey() {
        byte[] bytes = new byte[KEY_BYTES];
        RANDOM.nextBytes(bytes);
        return PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /** The stored form of a key; also what a presented key is looked up by. */
    public static String hash(String apiKey) {
        if (apiKey == null || apiKey.isEmpty() || apiKey.length() > MAX_KEY_LENGTH) {
            throw new IllegalArgumentException("an API key is between 1 and " + MAX_KEY_LENGTH + " characters");
        }
        return HexFormat.of().formatHex(newDigest().digest(apiKey.getBytes(StandardCharsets.UTF_8)));
    }

    private static MessageDigest newDigest() {
        try {
            return (MessageDigest) SHA_256.clone();
        } catch (CloneNotSupportedException notCloneable) {
            return sha256();
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException impossible) {
            throw new IllegalStateException("every JDK has SHA-256", impossible);
        }
    }

    public static boolean isPlausible(String apiKey) {
        return apiKey != null && !apiKey.isBlank() && apiKey.length() <= MAX_KEY_LENGTH;
    }
}
