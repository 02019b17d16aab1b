package dev.gpubroker.admin;

import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import dev.gpubroker.jobs.ProviderBillingCheck;
import dev.gpubroker.market.ProviderCatalog;
import dev.gpubroker.market.ProviderConfiguration;
import reactor.core.publisher.Mono;

/**
 * Which providers this server offers, and how to enable the ones it does not (never a key); and, for a real provider
 * whose API reports what it billed, that bill reconciled against what the broker metered.
 */
@RestController
class AdminProvidersController {

    private final ProviderCatalog providers;
    private final ProviderBillingCheck billing;
    private final java.time.Clock clock;

    AdminProvidersController(ProviderCatalog providers, ProviderBillingCheck billing, java.time.Clock clock) {
        this.providers = providers;
        this.billing = billing;
        this.clock = clock;
    }

    @GetMapping(AdminRoutes.PREFIX + "/providers")
    List<ProviderConfiguration> providers() {
        return providers.configuration();
    }

    /** {@code from} and {@code to} are ISO-8601 instants; by default the last 24 hours; at most 7 days. */
    @GetMapping(AdminRoutes.PREFIX + "/providers/{name}/billing")
    Mono<ProviderBillingCheck.Outcome.Report> billing(@PathVariable String name,
            @RequestParam(required = false) String from, @RequestParam(required = false) String to) {
        Instant end = to == null ? clock.instant() : instant("to", to);
        Instant start = from == null ? end.minus(Duration.ofDays(1)) : instant("from", from);
        if (!start.isBefore(end)) {
            throw new AdminProblems.InvalidField("from", "from is before to");
        }
        if (Duration.between(start, end).compareTo(ProviderBillingCheck.WINDOW_MAX) > 0) {
            throw new AdminProblems.InvalidField("from", "a check covers at most "
                    + ProviderBillingCheck.WINDOW_MAX.toDays() + " days");
        }
        return billing.check(name, start, end).map(outcome -> switch (outcome) {
            case ProviderBillingCheck.Outcome.Report report -> report;
            case ProviderBillingCheck.Outcome.UnknownProvider unknown -> throw new AdminProblems.NotFound(
                    "no provider " + unknown.provider() + " is offered; offered: " + unknown.known());
            case ProviderBillingCheck.Outcome.NoBillingHistory none -> throw new AdminProblems.NotFound(
                    "provider " + none.provider() + " reports no billing history to reconcile against");
        });
    }

    private static Instant instant(String field, String value) {
        try {
            return Instant.parse(value);
        } catch (DateTimeParseException e) {
            throw new AdminProblems.InvalidField(field, field + " is an ISO-8601 instant such as 2026-11-30T00:00:00Z");
        }
    }
}
