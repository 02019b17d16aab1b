package dev.gpubroker.market.vastai;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.client.WireMock.putRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.web.reactive.function.client.WebClient;

import com.github.tomakehurst.wiremock.stubbing.Scenario;

import dev.gpubroker.market.JobSignal;
import dev.gpubroker.market.JobStatus;
import dev.gpubroker.market.LaunchOutcome;
import dev.gpubroker.market.Offer;
import dev.gpubroker.market.OfferQuery;
import dev.gpubroker.market.ProviderFault;
import dev.gpubroker.market.ProviderUnavailableException;
import dev.gpubroker.market.remote.ProviderPricing;
import dev.gpubroker.money.PricePerGpuHour;

/** What the contract does not check: the exact requests sent to Vast.ai, prices, bids, logs and the key's safety. */
class VastaiProviderTest {

    private static final Duration WAIT = Duration.ofSeconds(20);

    private VastaiFake fake;
    private VastaiProvider provider;

    @BeforeEach
    void aVastAccount() {
        fake = new VastaiFake();
        provider = VastaiProviderContractTest.provider(fake, VastaiProviderContractTest.settings(fake.baseUrl()));
    }

    @AfterEach
    void stop() {
        fake.close();
    }

    @Test
    void theOfferSearchIsTheQueryTheCliSendsForOnDemandMachinesOfTheAskedSizeCheapestFirst() {
        fake.offers();

        provider.offers(new OfferQuery("H100", 1, 60, java.util.Optional.empty(), java.util.Optional.empty(),
                java.util.Optional.empty(), java.util.Optional.of(0.95))).block(WAIT);

        fake.server().verify(postRequestedFor(urlPathEqualTo("/api/v0/bundles/"))
                .withHeader("Authorization", equalTo("Bearer " + VastaiProviderContractTest.KEY.value()))
                .withRequestBody(matchingJsonPath("$.verified.eq", equalTo("true")))
                .withRequestBody(matchingJsonPath("$.rentable.eq", equalTo("true")))
                .withRequestBody(matchingJsonPath("$.rented.eq", equalTo("false")))
                .withRequestBody(matchingJsonPath("$.num_gpus.eq", equalTo("1")))
                .withRequestBody(matchingJsonPath("$.gpu_name.in[0]", equalTo("H100 SXM")))
                .withRequestBody(matchingJsonPath("$.reliability.gte", equalTo("0.95")))
                .withRequestBody(matchingJsonPath("$.order[0][0]", equalTo("dph_total")))
                .withRequestBody(matchingJsonPath("$.order[0][1]", equalTo("asc")))
                .withRequestBody(matchingJsonPath("$.type", equalTo("on-demand")))
                .withRequestBody(matchingJsonPath("$.limit", equalTo("200"))));
    }

    @Test
    void eachMachineIsSoldOnDemandAndAsACheaperLessReliableBidWithUnknownGpusSkipped() {
        fake.offers();

        List<Offer> offers = provider.offers(OfferQuery.any(1)).block(WAIT);

        assertThat(offers).extracting(Offer::offerId)
                .containsExactly("4242001", "4242001:bid", "4242002", "4242002:bid", "4242004");
        Offer h100 = offers.get(0);
        assertThat(h100.gpu()).isEqualTo("H100");
        assertThat(h100.vramGb()).isEqualTo(80);
        assertThat(h100.region()).isEqualTo("US");
        assertThat(h100.price()).isEqualTo(PricePerGpuHour.parse("2.2103"));
        assertThat(h100.reliability()).as("the host's reliability2").isEqualTo(0.9987);
        Offer bid = offers.get(1);
        assertThat(bid.price()).as("min_bid 1.10 + 10 % = 1.21, plus storage 0.0103")
                .isEqualTo(PricePerGpuHour.parse("1.2203"));
        assertThat(bid.reliability()).isEqualTo(0.6);
        assertThat(offers.get(4).gpu()).as("an A100 SXM4 with 80 GB").isEqualTo("A100-80GB");
    }

    @Test
    void pricesCarryTheOperatorsMarkupPerGpu() {
        fake.offers();
        VastaiProvider marked = Vastai.create(VastaiProviderContractTest.settings(fake.baseUrl()),
                VastaiProviderContractTest.KEY, new ProviderPricing(BigDecimal.valueOf(20)), WebClient.builder(),
                Clock.systemUTC(), VastaiProviderContractTest.FAST);

        Offer h100 = marked.offers(OfferQuery.any(1)).block(WAIT).get(0);

        assertThat(h100.price()).isEqualTo(PricePerGpuHour.parse("2.65236"));
    }

    @Test
    void aLaunchCreatesOneLabelledInstanceRunningTheProbedCommandAndARetriedLaunchCreatesNothingMore() {
        fake.lifecycle();

        LaunchOutcome first = provider.launch(VastaiProviderContractTest.job("job_once", "4242001")).block(WAIT);
        LaunchOutcome second = provider.launch(VastaiProviderContractTest.job("job_once", "4242001")).block(WAIT);

        assertThat(first).isEqualTo(new LaunchOutcome.Launched("job_once"));
        assertThat(second).isEqualTo(new LaunchOutcome.Launched("job_once"));
        fake.server().verify(1, putRequestedFor(urlPathMatching("/api/v0/asks/\\d+/")));
        fake.server().verify(putRequestedFor(urlPathEqualTo("/api/v0/asks/4242001/"))
                .withRequestBody(matchingJsonPath("$.label", equalTo("job_once")))
                .withRequestBody(matchingJsonPath("$.image", equalTo("nvidia/cuda:12.4.1-base-ubuntu22.04")))
                .withRequestBody(matchingJsonPath("$.runtype", equalTo("args")))
                .withRequestBody(matchingJsonPath("$.args[0]", equalTo("sh")))
                .withRequestBody(matchingJsonPath("$.args[-1]", equalTo("3")))
                .withRequestBody(matchingJsonPath("$.env.GPUBROKER_JOB_ID", equalTo("job_once")))
                .withRequestBody(matchingJsonPath("$.env.HF_HOME", equalTo("/cache")))
                .withRequestBody(matchingJsonPath("$.env.GPUBROKER_MAX_SECONDS", equalTo("600")))
                .withRequestBody(matchingJsonPath("$.disk", equalTo("16.0")))
                .withRequestBody(matchingJsonPath("$[?(!(@.price))]")));
    }

    @Test
    void anInterruptibleLaunchBidsAboveTheHostsCurrentMinimumBid() {
        fake.lifecycle();
        fake.server().stubFor(post(urlPathEqualTo("/api/v0/bundles/"))
                .withRequestBody(matchingJsonPath("$.type", equalTo("bid")))
                .willReturn(VastaiFake.json("bundles-bid-4242001.json")));

        LaunchOutcome launched = provider.launch(VastaiProviderContractTest.job("job_bid", "4242001:bid")).block(WAIT);

        assertThat(launched).isEqualTo(new LaunchOutcome.Launched("job_bid"));
        fake.server().verify(postRequestedFor(urlPathEqualTo("/api/v0/bundles/"))
                .withRequestBody(matchingJsonPath("$.id.eq", equalTo("4242001"))));
        fake.server().verify(putRequestedFor(urlPathEqualTo("/api/v0/asks/4242001/"))
                .withRequestBody(matchingJsonPath("$.price", equalTo("1.21"))));
    }

    @Test
    void aRunningJobIsBilledFromTheStartItsContainerPrintedAndItsLogsHideTheBrokersLines() {
        fake.labelled("job_run");
        fake.instance("instances-running.json", "logs-running.log");

        JobStatus status = provider.status("job_run").block(WAIT);
        var page = provider.logs("job_run", null, 100).block(WAIT);

        assertThat(status).isInstanceOfSatisfying(JobStatus.Running.class, running -> assertThat(running.startedAt())
                .as("the GPUBROKER_STARTED line's time").isBetween(Instant.now().minusSeconds(60), Instant.now()));
        assertThat(page.lines()).containsExactly("===========", "== CUDA ==", "gpubroker-contract-ok");
        assertThat(page.nextCursor()).isEqualTo("3");
        assertThat(provider.logs("job_run", "3", 100).block(WAIT).lines()).isEmpty();
    }

    @Test
    void aJobPastItsLimitIsDestroyedAndEndsTimedOut() {
        fake.labelled("job_long");
        fake.instance("instances-running.json", "logs-overrun.log");

        JobStatus status = provider.status("job_long").block(WAIT);

        assertThat(status).isInstanceOfSatisfying(JobStatus.Ended.class, ended -> {
            assertThat(ended.startedAt()).isEqualTo(Instant.ofEpochSecond(1796000000));
            assertThat(ended.how()).isInstanceOfSatisfying(JobSignal.Exited.class, exited -> {
                assertThat(exited.exitCode()).isEqualTo(124);
                assertThat(exited.timedOut()).isTrue();
            });
        });
        fake.server().verify(com.github.tomakehurst.wiremock.client.WireMock.deleteRequestedFor(
                urlPathEqualTo("/api/v0/instances/7835610/")));
    }

    @Test
    void aJobThatKillsTheShellReportingItsStatusIsStillBilledNeverLost() {
        fake.labelled("job_killed");
        fake.instance("instances-exited.json", "logs-killed.log");

        JobStatus status = provider.status("job_killed").block(WAIT);

        assertThat(status).isInstanceOfSatisfying(JobStatus.Ended.class, ended -> {
            assertThat(ended.startedAt()).as("it ran on the GPU: billed").isEqualTo(Instant.ofEpochSecond(1796000000));
            assertThat(ended.how()).isInstanceOfSatisfying(JobSignal.Exited.class,
                    exited -> assertThat(exited.exitCode()).isEqualTo(VastaiProvider.KILLED_EXIT_CODE));
        });
    }

    @Test
    void aJobThatExitedByItselfEndsWithItsExitCode() {
        fake.labelled("job_done");
        fake.instance("instances-exited.json", "logs-exited.log");

        JobStatus status = provider.status("job_done").block(WAIT);

        assertThat(status).isEqualTo(new JobStatus.Ended(Instant.ofEpochSecond(1796000000),
                new JobSignal.Exited(Instant.ofEpochSecond(1796000042), 0, false), "1 x H100 found by nvidia-smi"));
    }

    @Test
    void aLogUrlOnAHostThatIsNeitherTheApiNorVastsLogStoreIsNotFetched() {
        fake.labelled("job_run");
        fake.instance("instances-running.json", "logs-running.log");
        fake.server().stubFor(put(urlPathMatching("/api/v0/instances/request_logs/\\d+/?"))
                .willReturn(VastaiFake.json("request-logs-elsewhere.json")));

        assertThatThrownBy(() -> provider.logs("job_run", null, 100).block(WAIT))
                .isInstanceOfSatisfying(ProviderUnavailableException.class,
                        refused -> assertThat(refused.getMessage()).contains("logs.example.net").contains("not fetched"));
    }

    @Test
    void aRateLimitedSearchIsRetriedAfterABackoffAndThenAnswers() {
        fake.server().stubFor(post(urlPathEqualTo("/api/v0/bundles/")).inScenario("limited")
                .whenScenarioStateIs(Scenario.STARTED)
                .willReturn(aResponse().withStatus(429).withBody(VastaiFake.fixture("rate-limited.txt")))
                .willSetStateTo("calm"));
        fake.server().stubFor(post(urlPathEqualTo("/api/v0/bundles/")).inScenario("limited")
                .whenScenarioStateIs("calm").willReturn(VastaiFake.json("bundles.json")));

        List<Offer> offers = provider.offers(OfferQuery.any(1)).block(WAIT);

        assertThat(offers).isNotEmpty();
        fake.server().verify(2, postRequestedFor(urlPathEqualTo("/api/v0/bundles/")));
    }

    @Test
    void theKeyNeverAppearsInAnErrorEvenWhenVastEchoesIt() {
        String key = VastaiProviderContractTest.KEY.value();
        fake.server().stubFor(post(urlPathEqualTo("/api/v0/bundles/")).willReturn(aResponse().withStatus(400)
                .withHeader("Content-Type", "application/json")
                .withBody("{\"success\": false, \"error\": \"invalid_args\", \"msg\": \"bad key " + key + "\"}")));

        assertThatThrownBy(() -> provider.offers(OfferQuery.any(1)).block(WAIT))
                .isInstanceOfSatisfying(ProviderUnavailableException.class, error -> {
                    assertThat(error.getMessage()).doesNotContain(key);
                    assertThat(error.providerFault()).isInstanceOf(ProviderFault.ProvisioningFailed.class);
                });
        fake.server().verify(0, getRequestedFor(urlPathMatching("/vast-logs/.*")));
    }

    @Test
    void aJobWhoseInstanceIsGoneIsLost() {
        fake.server().stubFor(get(urlPathEqualTo("/api/v0/instances/")).willReturn(VastaiFake.json("instances-empty.json")));

        JobStatus status = provider.status("job_gone").block(WAIT);

        assertThat(status).isInstanceOfSatisfying(JobStatus.Ended.class,
                ended -> assertThat(ended.how()).isInstanceOf(JobSignal.Lost.class));
    }
}
