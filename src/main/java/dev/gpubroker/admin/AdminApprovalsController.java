package dev.gpubroker.admin;

import java.util.Locale;
import java.util.Map;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import dev.gpubroker.scheduler.Approval;
import dev.gpubroker.scheduler.ApprovalService;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** A person's decisions on purchases above an agent's approval threshold. */
@RestController
class AdminApprovalsController {

    record ApprovalView(String approvalId, String reservationId, String agentId, String amount, String status,
            String decidedBy, String reason, String createdAt, String expiresAt, String decidedAt) {

        static ApprovalView of(Approval approval) {
            return new ApprovalView(approval.approvalId(), approval.reservationId(), approval.agentId(),
                    approval.amount().toDecimalString(), approval.status().wireName(), approval.decidedBy(),
                    approval.reason(), approval.createdAt().toString(), approval.expiresAt().toString(),
                    approval.decidedAt() == null ? null : approval.decidedAt().toString());
        }
    }

    private static final String OPERATOR = "admin";
    private final ApprovalService approvals;

    AdminApprovalsController(ApprovalService approvals) {
        this.approvals = approvals;
    }

    @GetMapping(AdminRoutes.PREFIX + "/approvals")
    Flux<ApprovalView> list(@RequestParam(required = false) String status,
            @RequestParam(defaultValue = "50") int limit, @RequestParam(defaultValue = "0") int offset) {
        Paging.check(limit, offset);
        Approval.Status wanted;
        try {
            wanted = status == null ? null : Approval.Status.valueOf(status.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new AdminProblems.InvalidField("status", "status is pending, approved, denied or expired");
        }
        return approvals.list(wanted, limit, offset).map(ApprovalView::of);
    }

    @PostMapping(AdminRoutes.PREFIX + "/approvals/{approvalId}/approve")
    Mono<ApprovalView> approve(@PathVariable String approvalId) {
        return approvals.approve(approvalId, OPERATOR).switchIfEmpty(Mono.error(new AdminProblems.NotFound(
                "no approval " + approvalId))).map(AdminApprovalsController::done);
    }

    @PostMapping(AdminRoutes.PREFIX + "/approvals/{approvalId}/deny")
    Mono<ApprovalView> deny(@PathVariable String approvalId, @RequestBody(required = false) Map<String, Object> body) {
        Object reason = body == null ? null : body.get("reason");
        if (reason != null && (!(reason instanceof String text) || text.length() > 400)) {
            throw new AdminProblems.InvalidField("reason", "reason is a sentence of at most 400 characters");
        }
        return approvals.deny(approvalId, OPERATOR, (String) reason).switchIfEmpty(Mono.error(new AdminProblems.NotFound(
                "no approval " + approvalId))).map(AdminApprovalsController::done);
    }

    private static ApprovalView done(ApprovalService.Decision decision) {
        if (!decision.done()) {
            throw new AdminProblems.Conflict(decision.reason());
        }
        return ApprovalView.of(decision.approval());
    }
}
