package dev.gpubroker.market.vastai;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Vast.ai's settings ({@code gpubroker.providers.vastai.*}, docs/providers/vastai.md). The key is not here: it comes
 * from {@code VAST_API_KEY} or {@code <data>/providers/vastai.key}.
 * <ul>
 * <li>{@code baseUrl}: the API root (a proxy or a test fake may stand in);</li>
 * <li>{@code defaultImage}: the container image when the agent names none;</li>
 * <li>{@code diskGb}: the disk each instance is created with (Vast prices storage into {@code dph_total});</li>
 * <li>{@code interruptible}: whether the interruptible (bid) kind of each offer is sold too;
 *     {@code interruptibleReliabilityMax} caps its reliability (it can be outbid at any time);
 *     {@code bidOverMinBidPercent}: how far above the host's current {@code min_bid} the broker bids;</li>
 * <li>{@code readyWithin}: an instance not running this long after it was created is given up (never billed);</li>
 * <li>{@code logTailLines}: how many of the newest log lines Vast is asked for (older lines are out of reach);</li>
 * <li>{@code logHosts}: the hosts besides the API's own from which a log {@code result_url} is fetched (Vast
 *     documents {@code s3.amazonaws.com}); a URL elsewhere is refused, and no log URL is ever sent the key;</li>
 * <li>{@code callTimeout}: each API call; {@code offerTtl}: how long a search answer is served from the offer cache.</li>
 * <li>{@code statusPollInterval}: how often the job engine asks where a job stands (each answer costs several API
 *     calls against the operator's rate limit; the broker's own poll interval when that is longer).</li>
 * </ul>
 */
@ConfigurationProperties("gpubroker.providers.vastai")
public record VastaiProperties(
        @DefaultValue("https://console.vast.ai/api/v0") String baseUrl,
        @DefaultValue("nvidia/cuda:12.4.1-base-ubuntu22.04") String defaultImage,
        @DefaultValue("16") int diskGb,
        @DefaultValue("true") boolean interruptible,
        @DefaultValue("0.6") double interruptibleReliabilityMax,
        @DefaultValue("10") BigDecimal bidOverMinBidPercent,
        @DefaultValue("20m") Duration readyWithin,
        @DefaultValue("5000") int logTailLines,
        @DefaultValue("s3.amazonaws.com") List<String> logHosts,
        @DefaultValue("15s") Duration callTimeout,
        @DefaultValue("15s") Duration offerTtl,
        @DefaultValue("10s") Duration statusPollInterval) {

    public VastaiProperties {
        if (diskGb < 8) {
            throw new IllegalStateException("gpubroker.providers.vastai.disk-gb is at least 8 (Vast's minimum), got " + diskGb);
        }
        if (!(interruptibleReliabilityMax >= 0 && interruptibleReliabilityMax <= 1)) {
            throw new IllegalStateException("gpubroker.providers.vastai.interruptible-reliability-max is in [0, 1], got "
                    + interruptibleReliabilityMax);
        }
        if (bidOverMinBidPercent.signum() < 0 || bidOverMinBidPercent.compareTo(BigDecimal.valueOf(100)) > 0) {
            throw new IllegalStateException("gpubroker.providers.vastai.bid-over-min-bid-percent is in [0, 100], got "
                    + bidOverMinBidPercent);
        }
        if (logTailLines < 1 || logTailLines > 100_000) {
            throw new IllegalStateException("gpubroker.providers.vastai.log-tail-lines is in [1, 100000], got " + logTailLines);
        }
        logHosts = List.copyOf(logHosts);
    }
}
