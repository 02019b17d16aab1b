package dev.gpubroker.jobs;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import org.springframework.stereotype.Service;

import dev.gpubroker.market.ComputeProvider;
import dev.gpubroker.market.ProviderBilling;
import dev.gpubroker.market.ProviderCatalog;
import dev.gpubroker.market.remote.ProviderPricing;
import reactor.core.publisher.Mono;

/**
 * Reconciles what a real provider billed the operator (its own billing history) against what the broker metered for
 * the jobs that ran there, so that the operator sees money the broker did not observe: pods billed while provisioning
 * or after a failed readiness probe, pods left running, a price that changed after the quote. The broker's side is
 * its bill to agents taken back to the provider's prices (without the operator's markup); only the jobs' final
 * attempts are metered by the broker, so every earlier attempt the provider billed shows as a difference.
 */
@Service
public class ProviderBillingCheck {

    /** The longest window one check reads (RunPod answers in hourly buckets). */
    public static final Duration WINDOW_MAX = Duration.ofDays(7);

    private final ProviderCatalog providers;
    private final JobRepository jobs;
    private final ProviderPricing pricing;

    ProviderBillingCheck(ProviderCatalog providers, JobRepository jobs, ProviderPricing pricing) {
        this.providers = providers;
        this.jobs = jobs;
        this.pricing = pricing;
    }

    /** The outcome of a check: a report, or why there is none. */
    public sealed interface Outcome {

        record UnknownProvider(String provider, List<String> known) implements Outcome {
        }

        record NoBillingHistory(String provider) implements Outcome {
        }

        /**
         * Amounts in USD (the provider's) and USDC (the agents'), as decimal strings. {@code differenceUsd} is the
         * provider's GPU amount less the broker's metered cost at the provider's prices: positive, the operator paid
         * for GPU time the broker never billed.
         */
        record Report(String provider, Instant from, Instant to, long brokerJobs, long brokerGpuSeconds,
                String billedToAgents, String brokerCostAtProviderPrices, String providerGpuUsd, String providerTotalUsd,
                String differenceUsd, List<ProviderBilling.Charge> providerCharges) implements Outcome {
        }
    }

    public Mono<Outcome> check(String providerName, Instant from, Instant to) {
        ComputeProvider provider = providers.find(providerName).orElse(null);
        if (provider == null) {
            return Mono.just(new Outcome.UnknownProvider(providerName,
                    providers.all().stream().map(ComputeProvider::name).toList()));
        }
        if (!(provider instanceof ProviderBilling billing)) {
            return Mono.just(new Outcome.NoBillingHistory(providerName));
        }
        return billing.billed(from, to).flatMap(bill -> jobs.meteredAt(providerName, bill.from(), bill.to())
                .map(metered -> {
                    BigDecimal billed = BigDecimal.valueOf(metered.billedMicros(), 6);
                    BigDecimal atProviderPrices = pricing.providerAmount(billed);
                    return new Outcome.Report(providerName, bill.from(), bill.to(), metered.jobs(), metered.gpuSeconds(),
                            billed.toPlainString(), atProviderPrices.toPlainString(), plain(bill.gpuUsd()),
                            plain(bill.totalUsd()), plain(bill.gpuUsd().subtract(atProviderPrices)), bill.charges());
                }));
    }

    private static String plain(BigDecimal usd) {
        return usd.setScale(Math.max(2, Math.min(6, usd.scale())), RoundingMode.HALF_EVEN).toPlainString();
    }
}
