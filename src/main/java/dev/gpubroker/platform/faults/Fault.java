package dev.gpubroker.platform.faults;

/**
 * What kind of failure a call to something outside the broker (a compute provider, the chain's node) ended in, as
 * {@link Faults} tells it, and whether asking again may give another answer ({@link Verdict}).
 */
public enum Fault {

    /** No answer within the call's timeout: it may have been done, or not. */
    TIMEOUT(Verdict.TRANSIENT),
    /** Not reached: connection refused or reset, unknown host, an I/O failure on the way. */
    UNREACHABLE(Verdict.TRANSIENT),
    /** Reached, and it says it cannot now: HTTP 429 or 5xx, a rate limit, a provider's own "unavailable". */
    UNAVAILABLE(Verdict.TRANSIENT),
    /** The node has these very bytes already: as good as accepted, and sending them again changes nothing. */
    ALREADY_KNOWN(Verdict.PERMANENT),
    /**
     * Another transaction holds the nonce, mined ("nonce too low") or pooled ("replacement transaction underpriced"):
     * this one will not be mined, and the nonce is not free.
     */
    NONCE_USED(Verdict.PERMANENT),
    /** The sender cannot pay for it (gas or value). */
    INSUFFICIENT_FUNDS(Verdict.PERMANENT),
    /** The contract refused the call (execution reverted): the same call reverts again. */
    REVERTED(Verdict.PERMANENT),
    /** Answered with a refusal of another kind (fees, gas, a malformed request, HTTP 4xx). */
    REFUSED(Verdict.PERMANENT),
    /** Anything the broker did not expect: a bug until shown otherwise, so never retried blindly. */
    UNEXPECTED(Verdict.PERMANENT);

    private final Verdict verdict;

    Fault(Verdict verdict) {
        this.verdict = verdict;
    }

    public Verdict verdict() {
        return verdict;
    }

    public boolean isTransient() {
        return verdict == Verdict.TRANSIENT;
    }

    /** Whether asking again, unchanged, may give another answer. */
    public enum Verdict {
        TRANSIENT, PERMANENT
    }
}
