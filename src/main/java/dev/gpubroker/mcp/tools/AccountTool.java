package dev.gpubroker.mcp.tools;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
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
import dev.gpubroker.payments.AccountService.AccountSnapshot;
import dev.gpubroker.policy.PolicyService;
import dev.gpubroker.policy.PolicyStanding;
import dev.gpubroker.scheduler.Reservation;
import reactor.core.publisher.Mono;

/**
 * {@code account}: the calling agent's wallet, balances and reservations. Agents poll it: while what it shows (the
 * snapshot, the policy standing, the providers) is unchanged, the last answer is answered again ({@link LastAnswers}).
 */
@Component
class AccountTool implements ToolHandler {

    private final AccountService accounts;
    private final PolicyService policies;
    private final ProviderCatalog providers;
    /** By agent. */
    private final LastAnswers<String, Shown> answers = new LastAnswers<>(AccountTool::output);

    private record Shown(AccountSnapshot snapshot, PolicyStanding standing, List<ProviderConfiguration> providers) {
    }

    AccountTool(AccountService accounts, PolicyService policies, ProviderCatalog providers) {
        this.accounts = accounts;
        this.policies = policies;
        this.providers = providers;
    }

    @Override
    public String name() {
        return "account";
    }

    @Override
    public Mono<ToolResult> handle(Agent caller, ToolArguments arguments) {
        return Mono.zip(accounts.snapshot(caller), policies.standing(caller.agentId())).map(parts ->
                answers.answer(caller.agentId(), new Shown(parts.getT1(), parts.getT2(), providers.configuration())));
    }

    private static Map<String, Object> output(Shown shown) {
        var snapshot = shown.snapshot();
        Map<String, Object> output = new LinkedHashMap<>();
        output.put("agentId", snapshot.agent().agentId());
        output.put("name", snapshot.agent().name());
        output.put("walletAddress", snapshot.agent().walletAddress());
        output.put("walletCustody", snapshot.agent().custody().name().toLowerCase(Locale.ROOT));
        output.put("network", snapshot.network());
        output.put("usdcBalance", snapshot.usdcBalance().toDecimalString());
        output.put("escrowed", snapshot.escrowed().toDecimalString());
        output.put("budget", BudgetView.of(shown.standing()));
        output.put("reservations", snapshot.reservations().stream().map(AccountTool::reservation).toList());
        output.put("providers", shown.providers().stream().filter(ProviderConfiguration::enabled)
                .map(ProviderConfiguration::name).toList());
        return Collections.unmodifiableMap(output);
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
        return Collections.unmodifiableMap(output);
    }
}
