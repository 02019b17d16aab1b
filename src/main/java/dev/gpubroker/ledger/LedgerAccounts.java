package dev.gpubroker.ledger;

/** Account names: an agent's wallet, a reservation's escrow, a provider's payouts. */
public final class LedgerAccounts {

    private LedgerAccounts() {
    }

    public static String agentWallet(String agentId) {
        return "agent:" + agentId + ":wallet";
    }

    public static String escrow(String reservationId) {
        return "escrow:" + reservationId;
    }

    public static String seller(String provider) {
        return "seller:" + provider;
    }
}
