package dev.gpubroker.ledger;

import org.springframework.stereotype.Service;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The append-only ledger. Entries are checked when built ({@link LedgerEntry}) and again after writing: the lines
 * read back must balance, or the operation fails loudly. Corrections are reversing entries, never updates.
 */
@Service
public class Ledger {

    private final LedgerRepository lines;

    public Ledger(LedgerRepository lines) {
        this.lines = lines;
    }

    /** Records an entry once: an entry for a chain log already recorded is not written again. */
    public Mono<LedgerWrite> record(LedgerEntry entry) {
        Mono<Boolean> alreadyRecorded = entry.txHash() == null ? Mono.just(false)
                : lines.existsForLog(entry.txHash(), entry.logIndex());
        return alreadyRecorded.flatMap(exists -> exists
                ? Mono.just((LedgerWrite) new LedgerWrite.AlreadyRecorded(entry.txHash(), entry.logIndex()))
                : lines.insert(entry)
                        .then(lines.imbalance(entry.entryId()))
                        .flatMap(imbalance -> imbalance == 0 ? Mono.just((LedgerWrite) new LedgerWrite.Written(entry.entryId()))
                                : Mono.error(new IllegalStateException("ledger entry " + entry.entryId()
                                        + " does not balance after writing: " + imbalance))));
    }

    public Flux<LedgerLine> linesOfAgent(String agentId, int limit, int offset) {
        return lines.ofAgent(agentId, limit, offset);
    }

    public Flux<LedgerLine> chainBackedLines() {
        return lines.chainBacked();
    }
}
