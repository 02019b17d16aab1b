package dev.gpubroker.payments;

import java.util.List;

import org.springframework.stereotype.Service;

import dev.gpubroker.identity.Agent;
import dev.gpubroker.money.Usdc;
import dev.gpubroker.money.UsdcBalance;
import dev.gpubroker.payments.chain.ChainContext;
import dev.gpubroker.payments.chain.PaymentChain;
import dev.gpubroker.scheduler.Reservation;
import reactor.core.publisher.Mono;

/** An agent's money at a glance: its wallet's USDC on chain, what it has in escrow, its recent reservations. */
@Service
public class AccountService {

    private static final int RESERVATIONS_MAX = 20;

    public record AccountSnapshot(Agent agent, String network, UsdcBalance usdcBalance, Usdc escrowed,
            List<Reservation> reservations) {
    }

    private final ChainContext chain;
    private final WalletBalances balances;
    private final AccountReads reads;

    AccountService(PaymentChain paymentChain, WalletBalances balances, AccountReads reads) {
        this.chain = paymentChain.context();
        this.balances = balances;
        this.reads = reads;
    }

    public Mono<AccountSnapshot> snapshot(Agent agent) {
        return Mono.zip(
                balances.balanceOf(agent.walletAddress()).map(UsdcBalance::new),
                reads.escrowedAndRecent(agent.agentId(), RESERVATIONS_MAX))
                .map(parts -> new AccountSnapshot(agent, chain.network(), parts.getT1(), parts.getT2().escrowed(),
                        parts.getT2().recentReservations()));
    }
}
