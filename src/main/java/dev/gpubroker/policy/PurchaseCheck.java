package dev.gpubroker.policy;

import java.util.List;

/** The policy's answer for one prospective purchase: the rules it breaks (none: allowed), and whether a person must approve. */
public record PurchaseCheck(List<PolicyViolation> violations, boolean approvalRequired) {

    public PurchaseCheck {
        violations = List.copyOf(violations);
    }

    public boolean allowed() {
        return violations.isEmpty();
    }
}
