package dev.gpubroker.wallet;

import java.util.List;

/**
 * What the database records that only its keys can spend: asked once at start, before the chain is touched, so that a
 * data directory whose keystores are missing stops the server instead of being given new keys ({@code
 * payments.chain.ChainKeys} asks, {@code identity.AgentWalletRecords} answers). It lives beside the keystores rather
 * than in payments.chain so that identity can answer it without depending on payments, which depends on identity.
 */
public interface RecordedWallets {

    /** Whether the database records any agent, and so balances on the chain it was used with. Blocking. */
    boolean anyAgent();

    /** The custodial wallets the database records, each with its keystore label and address. Blocking. */
    List<Custodial> custodial();

    record Custodial(String agentId, String keystoreLabel, String address) {
    }

    /** A database that records nothing: for checks of a chain alone. */
    RecordedWallets NONE = new RecordedWallets() {
        @Override
        public boolean anyAgent() {
            return false;
        }

        @Override
        public List<Custodial> custodial() {
            return List.of();
        }
    };
}
