package dev.gpubroker.mcp.tools;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;

import org.springframework.stereotype.Component;

import dev.gpubroker.config.BrokerProperties;
import dev.gpubroker.identity.Agent;
import dev.gpubroker.market.OfferQuery;
import dev.gpubroker.market.Quote;
import dev.gpubroker.market.QuoteRequest;
import dev.gpubroker.market.QuoteService;
import dev.gpubroker.mcp.ToolArguments;
import dev.gpubroker.mcp.ToolError;
import dev.gpubroker.mcp.ToolHandler;
import dev.gpubroker.mcp.ToolResult;
import dev.gpubroker.money.PricePerGpuHour;
import dev.gpubroker.policy.PolicyService;
import dev.gpubroker.policy.PurchaseCheck;
import reactor.core.publisher.Mono;

/**
 * {@code quote}: offers across all providers, ranked, each with a binding price until it expires, and marked with
 * what the agent's policy says of it, so the agent need not guess.
 */
@Component
class QuoteTool implements ToolHandler {

    private static final int DEFAULT_LIMIT = 10;

    private final QuoteService quotes;
    private final PolicyService policies;
    private final int maxPerAnswer;

    QuoteTool(QuoteService quotes, PolicyService policies, BrokerProperties properties) {
        this.quotes = quotes;
        this.policies = policies;
        this.maxPerAnswer = properties.quotes().maxPerAnswer();
    }

    @Override
    public String name() {
        return "quote";
    }

    @Override
    public Mono<ToolResult> handle(Agent caller, ToolArguments arguments) {
        Optional<PricePerGpuHour> maxPrice;
        try {
            maxPrice = arguments.optionalString("maxPricePerGpuHour").map(PricePerGpuHour::parse);
        } catch (IllegalArgumentException e) {
            return Mono.just(ToolResult.failure(ToolError.invalidArgument("maxPricePerGpuHour",
                    "maxPricePerGpuHour is a positive USDC decimal string such as \"2.50\"")));
        }
        OfferQuery query = new OfferQuery(
                arguments.string("gpu"),
                arguments.optionalInteger("gpuCount").orElse(1),
                arguments.integer("durationMinutes"),
                maxPrice,
                arguments.optionalInteger("minVramGb"),
                arguments.optionalString("region"),
                arguments.optionalNumber("minReliability"));
        int limit = Math.min(arguments.optionalInteger("limit").orElse(DEFAULT_LIMIT), maxPerAnswer);
        QuoteRequest request = new QuoteRequest(query,
                arguments.optionalStrings("providers").map(LinkedHashSet::new), limit);
        return quotes.quote(caller.agentId(), request).zipWith(policies.evaluator(caller.agentId())).map(answer -> {
            var board = answer.getT1();
            var policy = answer.getT2();
            Map<String, Object> output = new LinkedHashMap<>();
            output.put("quotes", board.quotes().stream().map(quote -> toOutput(quote, policy.check(quote.provider(),
                    quote.gpu(), quote.price(), quote.total()))).toList());
            output.put("unavailableProviders", board.unavailableProviders().stream()
                    .map(unavailable -> Map.of("provider", unavailable.provider(), "reason", unavailable.reason()))
                    .toList());
            output.put("nextStep", board.quotes().isEmpty()
                    ? "no offer matches: relax a filter (gpu, maxPricePerGpuHour, region, minReliability) or try later"
                    : "call reserve with a quoteId and a new idempotencyKey before the quote's expiresAt");
            return ToolResult.success(output);
        });
    }

    private static Map<String, Object> toOutput(Quote quote, PurchaseCheck check) {
        Map<String, Object> output = new LinkedHashMap<>();
        output.put("quoteId", quote.quoteId());
        output.put("provider", quote.provider());
        output.put("gpu", quote.gpu());
        output.put("gpuCount", quote.gpuCount());
        output.put("vramGb", quote.vramGb());
        output.put("region", quote.region());
        output.put("durationMinutes", quote.durationMinutes());
        output.put("pricePerGpuHour", quote.price().toDecimalString());
        output.put("total", quote.total().toDecimalString());
        output.put("reliability", quote.reliability());
        output.put("expectedCost", quote.expectedCost().toDecimalString());
        output.put("expiresAt", quote.expiresAt().toString());
        Map<String, Object> policy = new LinkedHashMap<>();
        policy.put("allowed", check.allowed());
        policy.put("approvalRequired", check.approvalRequired());
        policy.put("reasons", check.violations().stream()
                .map(violation -> Map.of("code", violation.wireCode(), "message", violation.message())).toList());
        output.put("policy", policy);
        return output;
    }

}
