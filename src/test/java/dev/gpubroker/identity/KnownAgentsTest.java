package dev.gpubroker.identity;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;

import org.junit.jupiter.api.Test;

/** What the key check may take from memory, and what a rotation takes away. */
class KnownAgentsTest {

    private final KnownAgents known = new KnownAgents();
    private final Agent alice = agent("agt_alice");
    private final Agent bob = agent("agt_bob");

    @Test
    void aRememberedKeyIsRecognisedAndItsAgentFoundById() {
        known.rememberKey("hash-a", alice, known.rotations());

        assertThat(known.byKeyHash("hash-a")).isEqualTo(alice);
        assertThat(known.byId("agt_alice")).isEqualTo(alice);
        assertThat(known.byKeyHash("hash-unknown")).isNull();
    }

    @Test
    void aRotationForgetsEveryKeyOfThatAgentAndNoOtherAgents() {
        known.rememberKey("hash-a1", alice, known.rotations());
        known.rememberKey("hash-a2", alice, known.rotations());
        known.rememberKey("hash-b", bob, known.rotations());

        known.forgetKeysOf("agt_alice");

        assertThat(known.byKeyHash("hash-a1")).isNull();
        assertThat(known.byKeyHash("hash-a2")).isNull();
        assertThat(known.byKeyHash("hash-b")).isEqualTo(bob);
        assertThat(known.byId("agt_alice")).as("the record itself does not change").isEqualTo(alice);
    }

    @Test
    void aKeyReadFromTheDatabaseBeforeARotationFinishedIsNotKept() {
        long before = known.rotations();
        known.forgetKeysOf("agt_alice");

        known.rememberKey("hash-old", alice, before);

        assertThat(known.byKeyHash("hash-old")).isNull();
    }

    @Test
    void aFullMapMakesRoomInsteadOfGrowing() {
        for (int i = 0; i <= KnownAgents.ENTRIES_MAX; i++) {
            known.rememberKey("hash-" + i, alice, known.rotations());
        }

        assertThat(known.byKeyHash("hash-" + KnownAgents.ENTRIES_MAX)).isEqualTo(alice);
        assertThat(known.byKeyHash("hash-0")).as("dropped to make room").isNull();
    }

    private static Agent agent(String agentId) {
        return new Agent(agentId, agentId, "0x" + "ab".repeat(20), Agent.WalletCustody.EXTERNAL, Instant.EPOCH);
    }
}
