package dev.gpubroker.payments;

import org.springframework.stereotype.Service;

import dev.gpubroker.payments.chain.ChainContext;
import dev.gpubroker.payments.chain.EscrowContract;
import dev.gpubroker.payments.chain.EscrowDeposit;
import dev.gpubroker.payments.chain.PaymentChain;
import reactor.core.publisher.Mono;

/** What the escrow contract holds for a reservation now, read from the chain (never from our own records). */
@Service
public class EscrowState {

    private final ChainContext chain;

    public EscrowState(PaymentChain paymentChain) {
        this.chain = paymentChain.context();
    }

    public Mono<EscrowDeposit> of(String reservationId) {
        String key = EscrowContract.reservationKey(reservationId);
        return chain.client().call(null, chain.escrowAddress(), EscrowContract.depositsCall(key))
                .map(result -> EscrowContract.decodeDeposit(key, result));
    }
}
