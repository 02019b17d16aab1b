package dev.gpubroker.market.runpod;

import static com.github.tomakehurst.wiremock.client.WireMock.deleteRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static com.github.tomakehurst.wiremock.stubbing.Scenario.STARTED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.web.reactive.function.client.WebClient;

import dev.gpubroker.market.JobSignal;
import dev.gpubroker.market.JobStatus;
import dev.gpubroker.market.LaunchOutcome;
import dev.gpubroker.market.LaunchRequest;
import dev.gpubroker.market.LogPage;
import dev.gpubroker.market.Offer;
import dev.gpubroker.market.OfferQuery;
import dev.gpubroker.market.ProviderContract;
import dev.gpubroker.market.ProviderUnavailableException;
import dev.gpubroker.market.remote.ApiKey;
import dev.gpubroker.market.remote.ProviderPricing;
import dev.gpubroker.market.remote.RemoteProvidersConfiguration.RemoteHttp;

/** What the contract does not cover: the exact v2 requests, prices, skipped GPU types, the key, limits and logs. */
class RunpodProviderTest {

    private static final String H100_SECURE = "NVIDIA H100 80GB HBM3:SECURE:H100";

    private RunpodFake fake;

    @BeforeEach
    void startTheFake() {
        fake = new RunpodFake();
    }

    @AfterEach
    void stopTheFake() {
        fake.close();
    }

    private RunpodProvider provider(String markupPercent, Clock clock) {
        return RunpodProviders.create(RunpodSettings.defaults(fake.baseUrl()), new ApiKey(RunpodFake.API_KEY, "test"),
                new RemoteHttp(WebClient.builder()), new ProviderPricing(new BigDecimal(markupPercent)), clock);
    }

    private RunpodProvider provider() {
        return provider("0", Clock.systemUTC());
    }

    private static LaunchRequest request(String jobId, Duration maxDuration) {
        return new LaunchRequest(jobId, "hold_" + jobId, H100_SECURE, 1, List.of("python", "train.py", "--name", "it's"),
                null, Map.of("WANDB_MODE", "offline"), maxDuration);
    }

    @Test
    void offersAreSecureAndCommunityKindsOfTheGpusTheBrokerSellsAtTheMarkedUpPrice() {
        List<Offer> offers = provider("10", Clock.systemUTC()).offers(OfferQuery.any(1)).block(Duration.ofSeconds(30));

        assertThat(offers).extracting(Offer::offerId).containsExactlyInAnyOrder(
                "NVIDIA H100 80GB HBM3:SECURE:H100", "NVIDIA A100 80GB PCIe:SECURE:A100-80GB",
                "NVIDIA GeForce RTX 4090:SECURE:RTX4090", "NVIDIA H100 80GB HBM3:COMMUNITY:H100",
                "NVIDIA GeForce RTX 4090:COMMUNITY:RTX4090");
        Offer secureH100 = offers.stream().filter(offer -> offer.offerId().equals(H100_SECURE)).findFirst().orElseThrow();
        assertThat(secureH100.price().microsPerGpuHour()).as("2.69 USD + 10 %").isEqualTo(2_959_000L);
        assertThat(secureH100.vramGb()).isEqualTo(80);
        assertThat(secureH100.reliability()).isEqualTo(0.99);
        assertThat(offers.stream().filter(offer -> offer.offerId().endsWith(":COMMUNITY:H100")).findFirst().orElseThrow()
                .reliability()).isEqualTo(0.95);
        assertThat(offers.stream().filter(offer -> offer.gpu().equals("A100-80GB")).findFirst().orElseThrow()
                .availableGpus()).as("availability NONE").isZero();
        fake.server.verify(getRequestedFor(urlPathEqualTo("/v2/catalog/gpus"))
                .withQueryParam("include", equalTo("AVAILABILITY")).withQueryParam("product", equalTo("POD"))
                .withQueryParam("cloud", equalTo("COMMUNITY")).withQueryParam("count", equalTo("1"))
                .withHeader("Authorization", equalTo("Bearer " + RunpodFake.API_KEY)));
    }

    @Test
    void aLaunchSendsTheV2CreateBodyAndASecondLaunchCreatesNothing() {
        RunpodProvider provider = provider();

        assertThat(provider.launch(request("job_v2body", Duration.ofMinutes(30))).block(Duration.ofSeconds(30)))
                .isEqualTo(new LaunchOutcome.Launched("job_v2body"));
        assertThat(provider.launch(request("job_v2body", Duration.ofMinutes(30))).block(Duration.ofSeconds(30)))
                .isEqualTo(new LaunchOutcome.Launched("job_v2body"));

        fake.server.verify(1, postRequestedFor(urlPathEqualTo("/v2/pods")));
        fake.server.verify(postRequestedFor(urlPathEqualTo("/v2/pods"))
                .withRequestBody(matchingJsonPath("$.name", equalTo("job_v2body")))
                .withRequestBody(matchingJsonPath("$.image", equalTo("nvidia/cuda:12.4.1-base-ubuntu22.04")))
                .withRequestBody(matchingJsonPath("$.gpu.id", equalTo("NVIDIA H100 80GB HBM3")))
                .withRequestBody(matchingJsonPath("$.gpu.count", equalTo("1")))
                .withRequestBody(matchingJsonPath("$.cloud", equalTo("SECURE")))
                .withRequestBody(matchingJsonPath("$.env.GPUBROKER_JOB_ID", equalTo("job_v2body")))
                .withRequestBody(matchingJsonPath("$.env.WANDB_MODE", equalTo("offline")))
                .withRequestBody(matchingJsonPath("$.env.GPUBROKER_MAX_SECONDS", equalTo("1800")))
                .withRequestBody(matchingJsonPath("$.args", equalTo(RunpodCommand.args(
                        List.of("python", "train.py", "--name", "it's")))))
                .withRequestBody(matchingJsonPath("$.imageName", com.github.tomakehurst.wiremock.client.WireMock.absent()))
                .withRequestBody(matchingJsonPath("$.gpuTypeIds", com.github.tomakehurst.wiremock.client.WireMock.absent()))
                .withRequestBody(matchingJsonPath("$.dockerStartCmd", com.github.tomakehurst.wiremock.client.WireMock.absent()))
                .withRequestBody(matchingJsonPath("$.cloudType", com.github.tomakehurst.wiremock.client.WireMock.absent())));
        assertThat(RunpodCommand.args(List.of("echo", "it's"))).as("each word quoted for a POSIX shell")
                .endsWith("'echo' 'it'\"'\"'s'");
    }

    @Test
    void theKeyIsNeverInAnErrorEvenWhenRunpodEchoesIt() {
        fake.server.stubFor(get(urlPathEqualTo("/v2/catalog/gpus")).atPriority(1).willReturn(RunpodFake.json(401,
                "{\"title\":\"Unauthorized\",\"status\":401,\"detail\":\"invalid key " + RunpodFake.API_KEY + "\"}")));

        assertThatThrownBy(() -> provider().offers(OfferQuery.any(1)).block(Duration.ofSeconds(30)))
                .isInstanceOf(ProviderUnavailableException.class)
                .satisfies(error -> assertThat(error.getMessage()).doesNotContain(RunpodFake.API_KEY).contains("401"));
    }

    @Test
    void aRateLimitIsWaitedOutForTheSecondsRunpodAsks() {
        fake.server.stubFor(get(urlPathEqualTo("/v2/catalog/gpus")).atPriority(1).inScenario("limited")
                .whenScenarioStateIs(STARTED).willSetStateTo("waited")
                .willReturn(RunpodFake.json(429, RunpodFake.fixture("error-429.json")).withHeader("Retry-After", "1")));
        long started = System.nanoTime();

        List<Offer> offers = provider().offers(OfferQuery.any(1)).block(Duration.ofSeconds(30));

        assertThat(offers).isNotEmpty();
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofSeconds(1));
    }

    @Test
    void aFollowedJobIsReadByItsPodsIdAndItsProbeOnceNeverByListingEveryPodOfTheAccount() {
        fake.lifecycle("STARTING", "RUNNING");
        RunpodProvider provider = provider();
        provider.launch(request("job_polled", Duration.ofMinutes(30))).block(Duration.ofSeconds(30));

        List<JobStatus> polls = new java.util.ArrayList<>();
        for (int i = 0; i < 5; i++) {
            polls.add(provider.status("job_polled").block(Duration.ofSeconds(30)));
        }

        assertThat(polls.getFirst()).isInstanceOf(JobStatus.Starting.class);
        assertThat(polls.subList(1, 5)).allSatisfy(status -> assertThat(status).isInstanceOf(JobStatus.Running.class));
        // One list: the launch's look for a pod an earlier try created.
        fake.server.verify(1, getRequestedFor(urlPathEqualTo("/v2/pods")));
        fake.server.verify(5, getRequestedFor(urlPathMatching("/v2/pods/[^/]+")));
        fake.server.verify(1, getRequestedFor(urlPathMatching("/v2/pods/[^/]+/logs")));

        // Another instance stops it: the pod the id names is gone, and the job is looked for by name once more.
        provider().terminate("job_polled").block(Duration.ofSeconds(30));
        assertThat(provider.status("job_polled").block(Duration.ofSeconds(30))).isInstanceOfSatisfying(JobStatus.Ended.class,
                ended -> assertThat(ended.how()).isInstanceOfSatisfying(JobSignal.Lost.class,
                        lost -> assertThat(lost.reason()).contains("no pod named job_polled")));
    }

    @Test
    void aJobPastItsLimitIsStoppedAndEndsTimedOut() {
        fake.lifecycle("RUNNING");
        RunpodProvider launching = provider();
        launching.launch(request("job_too_long", Duration.ofMinutes(1))).block(Duration.ofSeconds(30));

        JobStatus status = provider("0", Clock.offset(Clock.systemUTC(), Duration.ofMinutes(5))).status("job_too_long")
                .block(Duration.ofSeconds(30));

        assertThat(status).isInstanceOfSatisfying(JobStatus.Ended.class, ended -> assertThat(ended.how())
                .isInstanceOfSatisfying(JobSignal.Exited.class, exited -> {
                    assertThat(exited.timedOut()).isTrue();
                    assertThat(exited.exitCode()).isEqualTo(124);
                }));
        fake.server.verify(deleteRequestedFor(urlPathMatching("/v2/pods/[^/]+")));
    }

    @Test
    void aJobThatKillsTheShellReportingItsStatusIsStillBilledNeverLost() {
        fake.lifecycle("RUNNING", "EXITED");
        fake.logLines(RunpodFake.H100_PROBE, ProviderContract.MARKER);
        RunpodProvider provider = provider();
        provider.launch(request("job_kills_wrapper", Duration.ofMinutes(30))).block(Duration.ofSeconds(30));

        assertThat(provider.status("job_kills_wrapper").block(Duration.ofSeconds(30))).isInstanceOf(JobStatus.Running.class);
        JobStatus ended = provider.status("job_kills_wrapper").block(Duration.ofSeconds(30));

        assertThat(ended).isInstanceOfSatisfying(JobStatus.Ended.class, over -> {
            assertThat(over.startedAt()).as("it ran on the GPU: billed").isNotNull();
            assertThat(over.how()).isInstanceOfSatisfying(JobSignal.Exited.class, exited -> {
                assertThat(exited.exitCode()).isEqualTo(RunpodProvider.KILLED_EXIT_CODE);
                assertThat(exited.at()).isAfterOrEqualTo(over.startedAt());
            });
        });
    }

    @Test
    void anExitedJobEndsWithTheExitStatusItPrintedAndTheAgentSeesOnlyItsOwnLines() {
        fake.lifecycle("RUNNING", "EXITED");
        fake.logLines(RunpodFake.H100_PROBE, ProviderContract.MARKER, "epoch 1", RunpodCommand.EXIT_PREFIX + "3");
        RunpodProvider provider = provider();
        provider.launch(request("job_exits", Duration.ofMinutes(30))).block(Duration.ofSeconds(30));

        assertThat(provider.status("job_exits").block(Duration.ofSeconds(30))).isInstanceOf(JobStatus.Running.class);
        JobStatus ended = provider.status("job_exits").block(Duration.ofSeconds(30));
        LogPage first = provider.logs("job_exits", null, 1).block(Duration.ofSeconds(30));
        LogPage rest = provider.logs("job_exits", first.nextCursor(), 100).block(Duration.ofSeconds(30));

        assertThat(ended).isInstanceOfSatisfying(JobStatus.Ended.class, over -> {
            assertThat(over.startedAt()).isNotNull();
            assertThat(over.how()).isInstanceOfSatisfying(JobSignal.Exited.class,
                    exited -> assertThat(exited.exitCode()).isEqualTo(3));
        });
        assertThat(first.lines()).as("the probe line is the broker's, hidden").isEmpty();
        assertThat(rest.lines()).as("resumed after the cursor (Last-Event-ID)").containsExactly(ProviderContract.MARKER,
                "epoch 1");
        fake.server.verify(getRequestedFor(urlPathMatching("/v2/pods/[^/]+/logs"))
                .withHeader("Last-Event-ID", equalTo(first.nextCursor())));
    }
}
