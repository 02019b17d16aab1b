package dev.gpubroker.payments;

import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

import org.springframework.stereotype.Component;

import dev.gpubroker.config.BrokerProperties;
import dev.gpubroker.payments.chain.ChainContext;
import dev.gpubroker.payments.chain.PaymentChain;
import dev.gpubroker.scheduler.Reservation;

/**
 * The x402 v2 PaymentRequirements of a reservation: pay {@code amount} atomic units of USDC on {@code network} to the
 * escrow ({@code payTo}) with an EIP-3009 ReceiveWithAuthorization. {@code extra} carries the token's EIP-712 domain
 * and the escrow terms an agent needs to sign for itself, above all the {@code nonce} the escrow requires.
 */
@Component
public class PaymentTerms {

    private final ChainContext chain;
    private final Clock clock;
    private final Duration afterRun;
    private final BrokerProperties.Chain settings;

    public PaymentTerms(PaymentChain paymentChain, Clock clock, BrokerProperties properties) {
        this.chain = paymentChain.context();
        this.clock = clock;
        this.afterRun = properties.chain().escrowDeadlineAfterRun();
        this.settings = properties.chain();
    }

    public EscrowTerms escrowTerms(Reservation reservation) {
        return EscrowTerms.of(reservation, chain.payeeAddress(), afterRun);
    }

    /**
     * What a stock x402 {@code exact} client needs and nothing more: it signs a TransferWithAuthorization of
     * {@code amount} to {@code payTo} (the escrow) under the token's domain in {@code extra}, with a nonce of its own;
     * the server binds that transfer to this reservation when it deposits it (docs/payments.md).
     */
    public PaymentRequirements x402RequirementsFor(Reservation reservation) {
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("name", chain.usdcAuthorizations().domainName());
        extra.put("version", settings.usdcDomainVersion());
        return new PaymentRequirements("exact", chain.network(), Long.toString(reservation.amount().micros()),
                chain.usdc().address(), chain.escrowAddress(), secondsLeft(reservation), extra);
    }

    public long chainId() {
        return chain.chainId();
    }

    private int secondsLeft(Reservation reservation) {
        long seconds = Math.max(0, Duration.between(clock.instant(), reservation.holdExpiresAt()).toSeconds());
        return (int) Math.min(Integer.MAX_VALUE, seconds);
    }

    public PaymentRequirements requirementsFor(Reservation reservation) {
        EscrowTerms terms = escrowTerms(reservation);
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("name", chain.usdcAuthorizations().domainName());
        extra.put("version", settings.usdcDomainVersion());
        extra.put("assetTransferMethod", "eip3009");
        extra.put("primaryType", "ReceiveWithAuthorization");
        extra.put("nonce", terms.nonce());
        extra.put("validBefore", terms.validBefore().toString());
        extra.put("escrowReservationId", terms.reservationKey());
        extra.put("escrowPayee", terms.payee());
        extra.put("escrowDeadline", terms.deadline().toString());
        return new PaymentRequirements("exact", chain.network(), Long.toString(reservation.amount().micros()),
                chain.usdc().address(), chain.escrowAddress(), secondsLeft(reservation), extra);
    }
}
