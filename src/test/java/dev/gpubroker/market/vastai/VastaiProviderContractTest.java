package dev.gpubroker.market.vastai;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;

import java.math.BigDecimal;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.springframework.web.reactive.function.client.WebClient;

import dev.gpubroker.market.ComputeProvider;
import dev.gpubroker.market.LaunchRequest;
import dev.gpubroker.market.ProviderContract;
import dev.gpubroker.market.ProviderFault;
import dev.gpubroker.market.remote.ApiKey;
import dev.gpubroker.market.remote.ProviderPricing;
import dev.gpubroker.market.remote.RemoteApi;

/** Vast.ai keeps the provider contract against a fake built from its published API (fixtures: providers/vastai/). */
class VastaiProviderContractTest extends ProviderContract {

    static final ApiKey KEY = new ApiKey("vast-test-key-0123456789abcdef", "test");
    static final RemoteApi.Settings FAST = new RemoteApi.Settings(Duration.ofSeconds(5), 2, Duration.ofMillis(20),
            Duration.ofSeconds(1));

    private static VastaiFake fake;
    private ComputeProvider provider;

    @BeforeAll
    static void startTheFake() {
        fake = new VastaiFake();
        // Netty reads a few system files the first time it is used: on this thread, not on one BlockHound watches.
        fake.lifecycle();
        provider(fake, settings(fake.baseUrl())).offers(dev.gpubroker.market.OfferQuery.any(1)).block(Duration.ofSeconds(30));
    }

    @AfterAll
    static void stopTheFake() {
        fake.close();
    }

    @BeforeEach
    void aVastAccount() {
        fake.reset();
        fake.lifecycle();
        provider = provider(fake, settings(fake.baseUrl()));
    }

    static VastaiProperties settings(String baseUrl) {
        return new VastaiProperties(baseUrl, "nvidia/cuda:12.4.1-base-ubuntu22.04", 16, true, 0.6, BigDecimal.TEN,
                Duration.ofMinutes(20), 5000, List.of("s3.amazonaws.com"), Duration.ofSeconds(5),
                Duration.ofSeconds(15), Duration.ofSeconds(10));
    }

    static VastaiProvider provider(VastaiFake fake, VastaiProperties settings) {
        return Vastai.create(settings, KEY, new ProviderPricing(BigDecimal.ZERO), WebClient.builder(),
                Clock.systemUTC(), FAST);
    }

    @Override
    protected ComputeProvider provider() {
        return provider;
    }

    @Override
    protected List<FaultScenario> faultScenarios() {
        return List.of(
                new FaultScenario("a refused API key is the operator's account", () -> {
                    fake.reset();
                    fake.server().stubFor(post(urlPathEqualTo(VastaiFake.API + "/bundles/"))
                            .willReturn(VastaiFake.json(401, "error-auth.json")));
                }, () -> provider.offers(query()), ProviderFault.QuotaOrAuth.class),
                new FaultScenario("rate limiting (429 without Retry-After) is transient", () -> {
                    fake.reset();
                    fake.server().stubFor(post(urlPathEqualTo(VastaiFake.API + "/bundles/"))
                            .willReturn(aResponse().withStatus(429).withBody(VastaiFake.fixture("rate-limited.txt"))));
                }, () -> provider.offers(query()), ProviderFault.Transient.class),
                new FaultScenario("an offer rented by someone else at launch is no capacity", () -> {
                    fake.reset();
                    fake.server().stubFor(get(urlPathEqualTo(VastaiFake.API + "/instances/"))
                            .willReturn(VastaiFake.json("instances-empty.json")));
                    fake.server().stubFor(put(urlPathMatching(VastaiFake.API + "/asks/\\d+/"))
                            .willReturn(VastaiFake.json(410, "create-no-such-ask.json")));
                }, () -> provider.launch(job("job_offer_gone", "4242001")), ProviderFault.NoCapacity.class),
                new FaultScenario("an instance never running within the limit is given up", () -> {
                    fake.reset();
                    fake.labelled("job_never_ready");
                    fake.instance("instances-never-ready.json", "logs-running.log");
                }, () -> provider.status("job_never_ready"), ProviderFault.Interrupted.class),
                new FaultScenario("a GPU other than the one promised fails the readiness probe", () -> {
                    fake.reset();
                    fake.labelled("job_wrong_gpu");
                    fake.instance("instances-running.json", "logs-wrong-gpu.log");
                }, () -> provider.status("job_wrong_gpu"), ProviderFault.Interrupted.class),
                new FaultScenario("an outbid interruptible instance is interrupted", () -> {
                    fake.reset();
                    fake.labelled("job_outbid");
                    fake.instance("instances-outbid.json", "logs-outbid.log");
                }, () -> provider.status("job_outbid"), ProviderFault.Interrupted.class));
    }

    static LaunchRequest job(String jobId, String offerId) {
        return new LaunchRequest(jobId, "hold_" + jobId, offerId, 1, List.of("python", "train.py", "--epochs", "3"),
                null, Map.of("HF_HOME", "/cache"), Duration.ofMinutes(10));
    }
}
