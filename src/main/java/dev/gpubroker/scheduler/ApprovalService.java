package dev.gpubroker.scheduler;

import java.time.Clock;
import java.util.UUID;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;
import org.springframework.transaction.reactive.TransactionalOperator;

import dev.gpubroker.policy.PolicyService;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Approvals of reservations above an agent's threshold. Only a person decides, through the admin API with the admin
 * token: nothing an agent's MCP client answers (an elicitation, say) ever counts as approval. An approval expires
 * with the reservation's hold.
 */
@Service
public class ApprovalService {

    private static final Logger log = LoggerFactory.getLogger(ApprovalService.class);

    /** The result of a decision: done, or why not. */
    public record Decision(boolean done, String reason, Approval approval) {
    }

    private final ApprovalRepository approvals;
    private final ReservationRepository reservations;
    private final PolicyService policies;
    private final TransactionalOperator transaction;
    private final Clock clock;

    public ApprovalService(ApprovalRepository approvals, ReservationRepository reservations, PolicyService policies,
            TransactionalOperator transaction, Clock clock) {
        this.approvals = approvals;
        this.reservations = reservations;
        this.policies = policies;
        this.transaction = transaction;
        this.clock = clock;
    }

    /** Opens the approval of a reservation that needs one; part of the reservation's transaction. */
    Mono<Approval> open(Reservation reservation) {
        Approval approval = new Approval("apr_" + UUID.randomUUID().toString().replace("-", ""),
                reservation.reservationId(), reservation.agentId(), reservation.amount(), Approval.Status.PENDING, null,
                null, clock.instant(), reservation.holdExpiresAt(), null);
        return approvals.insert(approval).thenReturn(approval)
                .doOnSuccess(opened -> log.info("Approval {} opened for reservation {} of agent {} ({})",
                        opened.approvalId(), opened.reservationId(), opened.agentId(), opened.amount()));
    }

    public Mono<Approval> forReservation(String reservationId) {
        return approvals.findByReservation(reservationId);
    }

    public Flux<Approval> list(Approval.Status status, int limit, int offset) {
        return approvals.list(status, limit, offset);
    }

    public Mono<Approval> find(String approvalId) {
        return approvals.findById(approvalId);
    }

    /** A person approves: the reservation becomes held (payable). */
    public Mono<Decision> approve(String approvalId, String by) {
        return decide(approvalId, Approval.Status.APPROVED, by, null);
    }

    /** A person denies: the reservation is cancelled, its capacity and budget released. */
    public Mono<Decision> deny(String approvalId, String by, String reason) {
        return decide(approvalId, Approval.Status.DENIED, by, reason);
    }

    private Mono<Decision> decide(String approvalId, Approval.Status decision, String by, String reason) {
        return approvals.findById(approvalId).flatMap(approval -> {
            Mono<Boolean> decided = approvals.decide(approvalId, decision, by, reason, clock.instant())
                    .flatMap(done -> !done ? Mono.just(false) : decision == Approval.Status.APPROVED
                            ? reservations.transition(approval.reservationId(), ReservationState.APPROVAL_REQUIRED,
                                    ReservationState.HELD, "approved by " + by, clock.instant())
                            : reservations.transition(approval.reservationId(), ReservationState.APPROVAL_REQUIRED,
                                            ReservationState.CANCELLED, "denied by " + by + (reason == null ? "" : ": " + reason),
                                            clock.instant())
                                    .flatMap(moved -> moved ? policies.releaseBudget(approval.reservationId()).thenReturn(true)
                                            : Mono.just(false)));
            return transaction.transactional(decided)
                    .flatMap(done -> approvals.findById(approvalId).map(current -> new Decision(done, done ? null
                            : "approval " + approvalId + " is " + current.status().wireName()
                                    + (current.status() == Approval.Status.PENDING ? " but its reservation's hold expired" : "")
                                    + "; nothing changed", current)))
                    .doOnNext(result -> log.info("Approval {} {} by {}: {}", approvalId, decision.wireName(), by,
                            result.done() ? "done" : result.reason()));
        });
    }

    public Mono<Long> expireOverdue() {
        return approvals.expirePendingBefore(clock.instant());
    }
}
