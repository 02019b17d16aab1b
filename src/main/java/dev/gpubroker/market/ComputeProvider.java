package dev.gpubroker.market;

/**
 * One seller of GPU time behind one interface: a marketplace, a cloud, a cluster, this host. The seam follows what
 * real APIs offer: offers ({@link OfferSource}, normalised at the edge into {@link Offer}s with explicit units),
 * capacity holds where the market has them ({@link #holds()}), and execution ({@link JobExecution}). Failures of the
 * provider are {@link ProviderUnavailableException}s naming a {@link ProviderFault}; expected refusals are
 * {@link HoldOutcome} and {@link LaunchOutcome} values. The caller bounds every call with a timeout, so an
 * implementation may be slow but must never block a thread.
 */
public interface ComputeProvider extends OfferSource, JobExecution {

    /**
     * How capacity is kept between reserve and run: the provider's own holds, or {@link RecheckedOffers} for a
     * provider that has none (the offer's price and availability are checked again at reserve; nothing is held).
     */
    CapacityHolds holds();

    /**
     * How long this provider's offers may be served from the broker's {@link OfferCache}: zero (the default) asks
     * it on every quote, as a market whose capacity changes with each hold must be; a real provider's catalog is
     * cached for a few seconds so that many agents cost one upstream call.
     */
    default java.time.Duration offerTtl() {
        return java.time.Duration.ZERO;
    }

    /**
     * How often the job engine may ask this provider where a job stands, when that is less often than the broker's
     * own {@code gpubroker.jobs.poll-interval}: a real provider's API counts every call against the operator's rate
     * limit, and a status answer there costs several calls. Empty: the broker's interval.
     */
    default java.util.Optional<java.time.Duration> statusPollInterval() {
        return java.util.Optional.empty();
    }
}
