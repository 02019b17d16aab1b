package dev.gpubroker.memo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** A memo keeps what it was given until it is full, and then starts over: it never grows past its bound. */
class BoundedMemoTest {

    @Test
    void aFullMemoStartsOverInsteadOfGrowing() {
        BoundedMemo<Integer, String> memo = new BoundedMemo<>(3);
        for (int key = 0; key < 3; key++) {
            memo.put(key, "v" + key);
        }
        memo.put(1, "again");
        assertThat(memo.size()).isEqualTo(3);
        assertThat(memo.get(1)).isEqualTo("again");

        memo.put(3, "v3");

        assertThat(memo.size()).isEqualTo(1);
        assertThat(memo.get(0)).isNull();
        assertThat(memo.get(3)).isEqualTo("v3");
        for (int key = 0; key < 10_000; key++) {
            memo.put(key, "v" + key);
        }
        assertThat(memo.size()).isLessThanOrEqualTo(3);
    }

    @Test
    void aMemoKeepsAtLeastOneEntry() {
        assertThatThrownBy(() -> new BoundedMemo<>(0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void onlySmallObjectsOfPlainValuesArePlain() {
        assertThat(PlainArguments.isPlain(Map.of())).isTrue();
        assertThat(PlainArguments.isPlain(Map.of("jobId", "job_1", "limit", 10, "all", true, "big", 1L << 40))).isTrue();
        assertThat(PlainArguments.isPlain(Map.of("jobId", "j".repeat(129)))).isFalse();
        assertThat(PlainArguments.isPlain(Map.of("command", List.of("sleep", "1")))).isFalse();
        assertThat(PlainArguments.isPlain(Map.of("env", Map.of("A", "1")))).isFalse();
        assertThat(PlainArguments.isPlain(Map.of("minReliability", 0.9))).isFalse();
        Map<String, Object> withNull = new HashMap<>();
        withNull.put("cursor", null);
        assertThat(PlainArguments.isPlain(withNull)).isFalse();
        Map<String, Object> many = new HashMap<>();
        for (int i = 0; i < 9; i++) {
            many.put("a" + i, i);
        }
        assertThat(PlainArguments.isPlain(many)).isFalse();
    }
}
