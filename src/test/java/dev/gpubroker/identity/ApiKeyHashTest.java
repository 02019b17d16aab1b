package dev.gpubroker.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

/** A key is stored and looked up by its SHA-256, the same from every thread, however many keys were hashed before. */
class ApiKeyHashTest {

    @Test
    void aKeyIsHashedAsSha256InHex() {
        // FIPS 180-2's example: SHA-256("abc").
        assertThat(ApiKeys.hash("abc")).isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assertThat(ApiKeys.hash("abc")).isEqualTo(ApiKeys.hash("abc"));
    }

    @Test
    void hashesFromManyThreadsAtOnceAreEachTheirKeysOwn() {
        List<String> keys = IntStream.range(0, 64).mapToObj(i -> ApiKeys.newKey()).toList();
        List<String> alone = keys.stream().map(ApiKeys::hash).toList();
        ConcurrentHashMap<Integer, String> together = new ConcurrentHashMap<>();

        IntStream.range(0, 20_000).parallel().forEach(i -> {
            String hash = ApiKeys.hash(keys.get(i % keys.size()));
            String earlier = together.putIfAbsent(i % keys.size(), hash);
            assertThat(earlier == null ? hash : earlier).isEqualTo(hash);
        });

        assertThat(IntStream.range(0, keys.size()).mapToObj(together::get).toList()).isEqualTo(alone);
        assertThat(alone).doesNotHaveDuplicates();
    }

    @Test
    void anEmptyOrHugeKeyIsRefused() {
        assertThatThrownBy(() -> ApiKeys.hash("")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ApiKeys.hash("k".repeat(201))).isInstanceOf(IllegalArgumentException.class);
    }
}
