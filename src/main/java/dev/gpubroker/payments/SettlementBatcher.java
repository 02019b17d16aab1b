package dev.gpubroker.payments;

import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

import dev.gpubroker.payments.chain.ChainContext;
import dev.gpubroker.payments.chain.EscrowContract;
import dev.gpubroker.payments.chain.PaymentChain;
import dev.gpubroker.payments.relayer.ChainTransaction;
import dev.gpubroker.payments.relayer.Relayer;
import dev.gpubroker.payments.relayer.RelayerRefusedException;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.util.concurrent.Queues;

/**
 * Gathers the settlements that come within {@link SettlementBatching#window()} (at most {@link SettlementBatching#max()})
 * into one GpuEscrow.settleBatch transaction, which costs each job about a third less gas than its own settle
 * (docs/contracts.md). Only {@link EscrowSubmissions} places settlements here, and only when batching is on.
 *
 * <p>What makes it safe: each member is written to {@code settlement_batch_members} (the reservation, the amount used,
 * the amount escrowed) before the relayer signs and stores the batch's transaction (purpose
 * {@link EscrowOperation#SETTLE_BATCH_PURPOSE}, reference the batch id), and a reservation is a live member of one batch
 * at most (a unique index). So a crash before the membership is written sent nothing (the caller's settlement is
 * submitted again, by {@code JobRecovery}); a crash after it leaves a membership that {@link #findLive} follows to the
 * batch's transaction once the relayer stored it; a membership whose batch never got a transaction is released after
 * {@link #UNSENT_BATCH_STALE_AFTER}. A batch the relayer refuses (one member no longer open on chain makes the whole
 * estimate revert) is released and its members sent alone, so one bad member never holds up the others.
 *
 * <p>A settlement whose batch turns out to hold a single reservation is sent alone too: a settleBatch of one saves
 * nothing.
 */
@Component
public class SettlementBatcher implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(SettlementBatcher.class);
    private static final int QUEUE_SIZE_MAX = 1024;
    /**
     * A membership whose batch has no transaction this long after it was written was left by a crash between the two
     * writes (the relayer stores a transaction well within this, its queue permitting); it is released so its
     * reservation can be settled. Should a stalled instance still send that batch afterwards, the escrow refuses the
     * second settlement of any reservation, and the reverted batch's open members are settled alone.
     */
    static final Duration UNSENT_BATCH_STALE_AFTER = Duration.ofMinutes(5);
    /** How long a settlement waits for the transaction of a batch that another caller is sending right now. */
    private static final Duration IN_FLIGHT_WAIT_MAX = Duration.ofSeconds(30);
    private static final Duration IN_FLIGHT_POLL = Duration.ofMillis(250);

    /** Where a settlement went. */
    sealed interface Placement {

        /** Into the batch whose transaction was submitted now. */
        record Batched(ChainTransaction transaction, int members) implements Placement {
        }

        /** Already a member of a batch whose transaction is on its way or done: nothing new was sent. */
        record AlreadyLive(ChainTransaction transaction) implements Placement {
        }

        /** To be sent as its own settle transaction, for the reason given. */
        record SendAlone(String why) implements Placement {
        }

        /** A member of a batch someone is sending right now, whose transaction is not stored yet. */
        record InFlight(String batchId) implements Placement {
        }
    }

    private record Pending(EscrowOperation.Settle settle, Sinks.One<Placement> answer) {
    }

    private final Relayer relayer;
    private final SettlementBatchRepository members;
    private final ChainContext chain;
    private final SettlementBatching batching;
    private final Clock clock;
    private final Object laneLock = new Object();
    private Sinks.Many<Pending> lane;
    private Disposable worker;

    SettlementBatcher(Relayer relayer, SettlementBatchRepository members, PaymentChain paymentChain,
            SettlementBatching batching, Clock clock) {
        this.relayer = relayer;
        this.members = members;
        this.chain = paymentChain.context();
        this.batching = batching;
        this.clock = clock;
    }

    /**
     * Places a settlement (already checked by {@link EscrowSubmissions}) into the next batch. Answers once the batch is
     * sent: {@link Placement.Batched}, {@link Placement.AlreadyLive} or {@link Placement.SendAlone}; fails with
     * {@link RelayerRefusedException} when the batcher is stopping or full.
     */
    Mono<Placement> place(EscrowOperation.Settle settle) {
        return Mono.defer(() -> {
            Sinks.One<Placement> answer = Sinks.one();
            Sinks.EmitResult emitted;
            synchronized (laneLock) {
                emitted = lane == null ? Sinks.EmitResult.FAIL_TERMINATED : lane.tryEmitNext(new Pending(settle, answer));
            }
            if (emitted == Sinks.EmitResult.FAIL_OVERFLOW) {
                return Mono.error(new RelayerRefusedException("the settlement batcher is full (" + QUEUE_SIZE_MAX
                        + " waiting); retry in a few seconds"));
            }
            if (emitted.isFailure()) {
                return Mono.error(new RelayerRefusedException("settlement batching is not running (the server is "
                        + "stopping); retry in a few seconds"));
            }
            return answer.asMono().flatMap(placed -> placed instanceof Placement.InFlight inFlight
                    ? awaitTransaction(settle.reservationId(), inFlight.batchId())
                    : Mono.just(placed));
        });
    }

    /**
     * The transaction of the batch the reservation is a live member of, if it is on its way or done: how a settlement
     * is found whether it went alone or in a batch, also after a restart.
     */
    Mono<ChainTransaction> findLive(String reservationId) {
        return members.findLive(reservationId)
                .flatMap(member -> relayer.findLive(member.batchId(), EscrowOperation.SETTLE_BATCH_PURPOSE));
    }

    private Mono<Placement> awaitTransaction(String reservationId, String batchId) {
        return Mono.defer(() -> relayer.findLive(batchId, EscrowOperation.SETTLE_BATCH_PURPOSE))
                .repeatWhenEmpty(attempts -> attempts.delayElements(IN_FLIGHT_POLL))
                .timeout(IN_FLIGHT_WAIT_MAX, Mono.error(() -> new RelayerRefusedException("reservation " + reservationId
                        + " is in settlement batch " + batchId + ", which is still being sent; retry in a few seconds")))
                .map(Placement.AlreadyLive::new);
    }

    /** One window's settlements: claim a membership for each reservation, then one transaction for all claimed. */
    private Mono<Void> send(List<Pending> window) {
        Map<String, List<Pending>> byReservation = new LinkedHashMap<>();
        window.forEach(pending -> byReservation.computeIfAbsent(pending.settle().reservationId(), id -> new ArrayList<>())
                .add(pending));
        if (byReservation.size() == 1) {
            answerAll(window, new Placement.SendAlone("it was alone in its batch window"));
            return Mono.empty();
        }
        String batchId = newBatchId();
        Instant now = clock.instant();
        return Flux.fromIterable(byReservation.values())
                .concatMap(requests -> claim(batchId, requests.getFirst().settle(), now)
                        .map(placed -> Map.entry(requests, placed)))
                .collectList()
                .flatMap(claims -> {
                    List<List<Pending>> claimed = new ArrayList<>();
                    for (Map.Entry<List<Pending>, Optional<Placement>> claim : claims) {
                        claim.getValue().ifPresentOrElse(elsewhere -> answerAll(claim.getKey(), elsewhere),
                                () -> claimed.add(claim.getKey()));
                    }
                    if (claimed.size() < 2) {
                        return members.release(batchId).doOnNext(released -> claimed.forEach(requests -> answerAll(
                                requests, new Placement.SendAlone("it was alone in its batch window")))).then();
                    }
                    return submit(batchId, claimed);
                })
                // Whatever went wrong: every caller still waiting hears it (an answered one ignores a second answer).
                .doOnError(error -> window.forEach(pending -> pending.answer().tryEmitError(error)))
                .onErrorResume(error -> Mono.empty());
    }

    /** Empty when the reservation is now a live member of this batch; otherwise where its settlement already is. */
    private Mono<Optional<Placement>> claim(String batchId, EscrowOperation.Settle settle, Instant now) {
        String reservationId = settle.reservationId();
        return members.claim(batchId, reservationId, settle.used(), settle.reservation().amount(), now)
                .flatMap(claimed -> claimed ? Mono.just(Optional.<Placement>empty()) : members.findLive(reservationId)
                        .switchIfEmpty(Mono.error(() -> new IllegalStateException("reservation " + reservationId
                                + " could not join batch " + batchId + ", yet it is in no live batch")))
                        .flatMap(holder -> relayer.findLive(holder.batchId(), EscrowOperation.SETTLE_BATCH_PURPOSE)
                                .map(live -> Optional.<Placement>of(new Placement.AlreadyLive(live)))
                                .switchIfEmpty(Mono.defer(() -> holder.createdAt().plus(UNSENT_BATCH_STALE_AFTER)
                                        .isAfter(now)
                                        ? Mono.just(Optional.<Placement>of(new Placement.InFlight(holder.batchId())))
                                        : releaseStale(holder).then(claim(batchId, settle, now))))));
    }

    private Mono<Long> releaseStale(SettlementBatchRepository.Member holder) {
        return members.release(holder.batchId()).doOnNext(released -> log.warn("Settlement batch {} was written at {} "
                + "but never sent (a crash between the two?); released its {} live members", holder.batchId(),
                holder.createdAt(), released));
    }

    private Mono<Void> submit(String batchId, List<List<Pending>> claimed) {
        // Members of one payer next to each other: the escrow pays each run of equal payers back in one transfer.
        List<EscrowOperation.Settle> settles = claimed.stream().map(requests -> requests.getFirst().settle())
                .sorted(Comparator.comparing((EscrowOperation.Settle settle) -> settle.reservation().agentId())
                        .thenComparing(EscrowOperation.Settle::reservationId))
                .toList();
        String callData = EscrowContract.settleBatch(
                settles.stream().map(settle -> EscrowContract.reservationKey(settle.reservationId())).toList(),
                settles.stream().map(settle -> BigInteger.valueOf(settle.used().micros())).toList());
        return relayer.submit(EscrowOperation.SETTLE_BATCH_PURPOSE, batchId, chain.escrowAddress(), callData)
                .doOnNext(sent -> {
                    log.info("Settlement batch {} submitted: {} reservations ({}) in {}", batchId, settles.size(),
                            String.join(", ", settles.stream().map(EscrowOperation.Settle::reservationId).toList()),
                            sent.hash());
                    claimed.forEach(requests -> answerAll(requests, new Placement.Batched(sent, settles.size())));
                })
                .onErrorResume(refused -> relayer.findLive(batchId, EscrowOperation.SETTLE_BATCH_PURPOSE)
                        // Stored before the failure (a database fault after signing): it goes out, the members stay.
                        .doOnNext(stored -> claimed.forEach(requests -> answerAll(requests,
                                new Placement.Batched(stored, settles.size()))))
                        .switchIfEmpty(Mono.defer(() -> members.release(batchId).then(Mono.fromRunnable(() -> {
                            log.warn("Settlement batch {} was not sent ({}); its {} reservations go alone", batchId,
                                    refused.getMessage(), settles.size());
                            claimed.forEach(requests -> answerAll(requests, new Placement.SendAlone(
                                    "its batch was not sent: " + refused.getMessage())));
                        })))))
                .then();
    }

    /** The first request for a reservation gets the placement; a repeat in the same window hears it is live. */
    private static void answerAll(List<Pending> requests, Placement placement) {
        for (int index = 0; index < requests.size(); index++) {
            Placement answer = index > 0 && placement instanceof Placement.Batched batched
                    ? new Placement.AlreadyLive(batched.transaction()) : placement;
            requests.get(index).answer().tryEmitValue(answer);
        }
    }

    private static String newBatchId() {
        return "sbt_" + UUID.randomUUID().toString().replace("-", "");
    }

    @Override
    public void start() {
        if (!batching.enabled()) {
            return;
        }
        synchronized (laneLock) {
            lane = Sinks.many().unicast().onBackpressureBuffer(Queues.<Pending>get(QUEUE_SIZE_MAX).get());
            worker = lane.asFlux()
                    .bufferTimeout(batching.max(), batching.window(), true)
                    .concatMap(this::send, 1)
                    .subscribe();
        }
    }

    /** Takes no new settlements; the window under way is still sent (before the relayer stops, which it needs). */
    @Override
    public void stop() {
        synchronized (laneLock) {
            if (lane != null) {
                lane.tryEmitComplete();
            }
            lane = null;
            worker = null;
        }
    }

    @Override
    public boolean isRunning() {
        return worker != null && !worker.isDisposed();
    }
}
