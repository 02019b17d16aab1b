package dev.gpubroker.mcp.tools;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import org.springframework.stereotype.Component;

import dev.gpubroker.identity.Agent;
import dev.gpubroker.market.ProviderCatalog;
import dev.gpubroker.market.ProviderConfiguration;
import dev.gpubroker.mcp.ToolArguments;
import dev.gpubroker.mcp.ToolHandler;
import dev.gpubroker.mcp.ToolResult;
import dev.gpubroker.payments.AccountService;
import dev.gpubroker.scheduler.Reservation;
import reactor.core.publisher.Mono;

/** {@code account}: the calling agent's wallet, balances and reservations. */
@Component
class AccountTool implements ToolHandler {

    private final AccountService accounts;
    private final BudgetView budgets;
    private final ProviderCatalog providers;

    AccountTool(AccountService accounts, BudgetView budgets, ProviderCatalog providers) {
        this.accounts = accounts;
        this.budgets = budgets;
        this.providers = providers;
    }

    @Override
    public String name() {
        return "account";
    }

    @Override
    public Mono<ToolResult> handle(Agent caller, ToolArguments arguments) {
        return accounts.snapshot(caller).zipWith(budgets.budget(caller.agentId())).map(parts -> {
            var snapshot = parts.getT1();
            Map<String, Object> output = new LinkedHashMap<>();
            output.put("agentId", snapshot.agent().agentId());
            output.put("name", snapshot.agent().name());
            output.put("walletAddress", snapshot.agent().walletAddress());
            output.put("walletCustody", snapshot.agent().custody().name().toLowerCase(Locale.ROOT));
            output.put("network", snapshot.network());
            output.put("usdcBalance", snapshot.usdcBalance().toDecimalString());
            output.put("escrowed", snapshot.escrowed().toDecimalString());
            output.put("budget", parts.getT2());
            output.put("reservations", snapshot.reservations().stream().map(AccountTool::reservation).toList());
            output.put("providers", providers.configuration().stream().filter(ProviderConfiguration::enabled)
                    .map(ProviderConfiguration::name).toList());
            return ToolResult.success(output);
        });
    }

    private static Map<String, Object> reservation(Reservation reservation) {
        Map<String, Object> output = new LinkedHashMap<>();
        output.put("reservationId", reservation.reservationId());
        output.put("status", reservation.state().wireName());
        output.put("provider", reservation.provider());
        output.put("gpuCount", reservation.gpuCount());
        output.put("durationMinutes", reservation.durationMinutes());
        output.put("amount", reservation.amount().toDecimalString());
        output.put("holdExpiresAt", reservation.holdExpiresAt().toString());
        if (reservation.paymentId() != null) {
            output.put("paymentId", reservation.paymentId());
        }
        return output;
    }
}
