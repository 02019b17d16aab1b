package dev.gpubroker.ledger;

import java.util.List;
import java.util.Objects;

import dev.gpubroker.money.Usdc;

/**
 * One money movement in double entry: lines whose debits equal their credits, keyed to the chain transaction and
 * log that made it, or carrying the reason it has none. The constructor refuses anything else.
 */
public record LedgerEntry(String entryId, String reservationId, String txHash, Integer logIndex, String reason,
        List<Line> lines) {

    public enum Direction { D, C }

    public record Line(String account, Direction direction, Usdc amount) {

        public Line {
            Objects.requireNonNull(account, "account");
            Objects.requireNonNull(direction, "direction");
            if (amount == null || amount.isZero()) {
                throw new IllegalArgumentException("a ledger line moves a positive amount");
            }
        }
    }

    public LedgerEntry {
        Objects.requireNonNull(entryId, "entryId");
        Objects.requireNonNull(reason, "reason");
        lines = List.copyOf(lines);
        if (lines.size() < 2) {
            throw new IllegalArgumentException("a double entry has at least two lines");
        }
        if (txHash == null && reason.isBlank()) {
            throw new IllegalArgumentException("a ledger entry has a chain transaction or a reason");
        }
        if ((txHash == null) != (logIndex == null)) {
            throw new IllegalArgumentException("a chain-backed entry names both the transaction and the log");
        }
        long debits = lines.stream().filter(line -> line.direction() == Direction.D).mapToLong(line -> line.amount().micros()).sum();
        long credits = lines.stream().filter(line -> line.direction() == Direction.C).mapToLong(line -> line.amount().micros()).sum();
        if (debits != credits) {
            throw new IllegalArgumentException("debits " + debits + " differ from credits " + credits + " in entry " + entryId);
        }
    }

    /** A fresh entry id; an entry's uniqueness comes from its chain log (or its reason), not from its id. */
    public static String newId() {
        return "led_" + java.util.UUID.randomUUID().toString().replace("-", "");
    }

    /** Money moving from one account to another. */
    public static LedgerEntry transfer(String entryId, String reservationId, String txHash, Integer logIndex, String reason,
            String fromAccount, String toAccount, Usdc amount) {
        return new LedgerEntry(entryId, reservationId, txHash, logIndex, reason,
                List.of(new Line(toAccount, Direction.D, amount), new Line(fromAccount, Direction.C, amount)));
    }
}
