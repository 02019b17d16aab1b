package dev.gpubroker.market.shadeform;

import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.web.reactive.function.client.WebClient;

import com.github.tomakehurst.wiremock.stubbing.Scenario;

import dev.gpubroker.market.GpuModels;
import dev.gpubroker.market.JobSignal;
import dev.gpubroker.market.JobStatus;
import dev.gpubroker.market.LaunchOutcome;
import dev.gpubroker.market.LaunchRequest;
import dev.gpubroker.market.LogPage;
import dev.gpubroker.market.Offer;
import dev.gpubroker.market.OfferQuery;
import dev.gpubroker.market.ProviderFault;
import dev.gpubroker.market.ProviderUnavailableException;
import dev.gpubroker.market.remote.ApiKey;
import dev.gpubroker.market.remote.ProviderPricing;
import dev.gpubroker.market.remote.ReadinessProbe;
import dev.gpubroker.market.remote.RemoteProvidersConfiguration.RemoteHttp;
import tools.jackson.databind.JsonNode;

/** What the contract does not cover: Shadeform's exact requests, its prices, its limits and its key. */
class ShadeformProviderTest {

    private ShadeformFake fake;
    private ShiftableClock clock;

    @BeforeEach
    void aFakeShadeform() {
        clock = new ShiftableClock();
        fake = new ShadeformFake(clock);
    }

    @AfterEach
    void stopTheFake() {
        fake.close();
    }

    private ShadeformProvider provider(BigDecimal markupPercent) {
        return ShadeformProviders.create(ShadeformSettings.defaults(fake.baseUrl()), new ApiKey(ShadeformFake.API_KEY, "test"),
                new RemoteHttp(WebClient.builder()), new ProviderPricing(markupPercent), clock);
    }

    private ShadeformProvider provider() {
        return provider(BigDecimal.ZERO);
    }

    private static LaunchRequest request(String jobId, Duration maxDuration) {
        return new LaunchRequest(jobId, "hold_" + jobId, ShadeformProviderContractTest.H100_OFFER, 1,
                List.of("python", "train.py", "--note", "it's fine"), null, Map.of("HF_TOKEN", "hf_secret"), maxDuration);
    }

    @Test
    void offersAreOnePerCloudInstanceTypeAndAvailableRegionWithTheCloudShownAndThePriceMarkedUpPerGpuHour() {
        List<Offer> offers = provider(BigDecimal.TEN).offers(OfferQuery.any(1)).block(Duration.ofSeconds(20));

        // The A6000 and the GH200 are not models GPU Broker sells, norway-1 is not available, H100x8 has 8 GPUs.
        assertThat(offers).extracting(Offer::offerId)
                .containsExactly("hyperstack:H100:canada-1", "runpod:A100_80G:US");
        Offer h100 = offers.get(0);
        assertThat(h100.gpu()).isEqualTo("H100");
        assertThat(h100.region()).isEqualTo("hyperstack:canada-1");
        assertThat(h100.vramGb()).isEqualTo(80);
        assertThat(h100.availableGpus()).isEqualTo(1);
        assertThat(h100.reliability()).isEqualTo(0.97);
        // 190 cents an hour for the instance, plus the operator's 10 %.
        assertThat(h100.price().microsPerGpuHour()).isEqualTo(2_090_000L);
        assertThat(offers.get(1).gpu()).isEqualTo("A100-80GB");
        fake.server.verify(getRequestedFor(urlPathEqualTo("/v1/instances/types"))
                .withQueryParam("available", equalTo("true"))
                .withQueryParam("num_gpus", equalTo("1"))
                .withHeader("X-API-KEY", equalTo(ShadeformFake.API_KEY)));
    }

    @Test
    void aWholeEightGpuInstanceIsQuotedPerGpuOnlyToAnAgentAskingForEight() {
        List<Offer> offers = provider().offers(OfferQuery.any(8)).block(Duration.ofSeconds(20));

        assertThat(offers).singleElement().satisfies(offer -> {
            assertThat(offer.offerId()).isEqualTo("lambdalabs:H100x8:us-south-2");
            assertThat(offer.availableGpus()).isEqualTo(8);
            assertThat(offer.price().microsPerGpuHour()).isEqualTo(2_990_000L);
        });
    }

    @Test
    void shadeformGpuTypesMapToGpuBrokerModelsAndNeighboursDoNot() {
        assertThat(ShadeformCatalog.modelOf("A100_80G", 80)).contains("A100-80GB");
        assertThat(ShadeformCatalog.modelOf("A100", 40)).contains("A100-40GB");
        assertThat(ShadeformCatalog.modelOf("H100", 80)).contains("H100");
        assertThat(ShadeformCatalog.modelOf("RTX4090", 24)).contains("RTX4090");
        assertThat(ShadeformCatalog.modelOf("L40S", 48)).contains("L40S");
        assertThat(ShadeformCatalog.modelOf("L40", 48)).isEmpty();
        assertThat(ShadeformCatalog.modelOf("GH200", 96)).isEmpty();
        assertThat(ShadeformCatalog.modelOf("A6000", 48)).isEmpty();
        assertThat(GpuModels.ALL).contains("A100-80GB", "A100-40GB", "RTX4090", "L40S");
    }

    @Test
    void launchCreatesAnInstanceNamedAfterTheJobThatRunsTheProbeWrappedCommandInTheDefaultImage() {
        Instant before = clock.instant();
        LaunchOutcome outcome = provider().launch(request("job_body", Duration.ofMinutes(45))).block(Duration.ofSeconds(20));

        assertThat(outcome).isEqualTo(new LaunchOutcome.Launched("job_body"));
        fake.server.verify(1, postRequestedFor(urlPathEqualTo("/v1/instances/create"))
                .withHeader("X-API-KEY", equalTo(ShadeformFake.API_KEY))
                .withRequestBody(matchingJsonPath("$.cloud", equalTo("hyperstack")))
                .withRequestBody(matchingJsonPath("$.region", equalTo("canada-1")))
                .withRequestBody(matchingJsonPath("$.shade_instance_type", equalTo("H100")))
                .withRequestBody(matchingJsonPath("$.shade_cloud", equalTo("true")))
                .withRequestBody(matchingJsonPath("$.name", equalTo("job_body")))
                .withRequestBody(matchingJsonPath("$.launch_configuration.type", equalTo("docker")))
                .withRequestBody(matchingJsonPath("$.launch_configuration.docker_configuration.image",
                        equalTo("nvidia/cuda:12.4.1-base-ubuntu22.04")))
                .withRequestBody(matchingJsonPath("$.tags[1]", equalTo("gpubroker-max-seconds-2700"))));
        JsonNode body = fake.createRequests().get(0);
        String args = body.path("launch_configuration").path("docker_configuration").path("args").asString();
        assertThat(args).startsWith("'sh' '-c' '").contains(ReadinessProbe.PREFIX.strip())
                .endsWith("'gpubroker-job' 'python' 'train.py' '--note' 'it'\\''s fine'");
        assertThat(body.path("launch_configuration").path("docker_configuration").path("envs").toString())
                .contains("{\"name\":\"GPUBROKER_JOB_ID\",\"value\":\"job_body\"}")
                .contains("{\"name\":\"HF_TOKEN\",\"value\":\"hf_secret\"}");
        Instant deleteAfter = Instant.parse(body.path("auto_delete").path("date_threshold").asString());
        assertThat(deleteAfter).isBetween(before.plus(Duration.ofMinutes(75)), clock.instant().plus(Duration.ofMinutes(75)));
        assertThat(body.toString()).doesNotContain(ShadeformFake.API_KEY);
    }

    @Test
    void aSecondLaunchOfTheSameJobFindsTheInstanceAndCreatesNothingMore() {
        fake.existing("job_again", "pending");

        LaunchOutcome outcome = provider().launch(request("job_again", Duration.ofMinutes(10))).block(Duration.ofSeconds(20));

        assertThat(outcome).isEqualTo(new LaunchOutcome.Launched("job_again"));
        fake.server.verify(0, postRequestedFor(urlPathEqualTo("/v1/instances/create")));
    }

    @Test
    void aJobIsBilledFromTheVmsActiveAtAndSaysItsReadinessCouldNotBeVerified() {
        ShadeformProvider provider = provider();
        provider.launch(request("job_active", Duration.ofMinutes(10))).block(Duration.ofSeconds(20));
        Instant activeAt = clock.instant().minus(Duration.ofMinutes(2));
        fake.change("job_active", "active_at", activeAt.toString());

        assertThat(provider.status("job_active").block(Duration.ofSeconds(20))).as("pending").isInstanceOf(JobStatus.Starting.class);
        JobStatus active = provider.status("job_active").block(Duration.ofSeconds(20));

        assertThat(active).isEqualTo(new JobStatus.Running(activeAt,
                ShadeformProvider.READINESS_UNVERIFIED));
        assertThat(provider.logs("job_active", null, 100).block(Duration.ofSeconds(20))).isEqualTo(new LogPage(List.of(), null));
    }

    @Test
    void aJobPastItsTimeLimitIsDeletedAndEndsTimedOut() {
        ShadeformProvider provider = provider();
        fake.lifecycle("active");
        provider.launch(request("job_long", Duration.ofMinutes(10))).block(Duration.ofSeconds(20));
        JobStatus running = provider.status("job_long").block(Duration.ofSeconds(20));
        Instant startedAt = ((JobStatus.Running) running).startedAt();

        clock.moveAhead(Duration.ofMinutes(11));
        JobStatus over = provider.status("job_long").block(Duration.ofSeconds(20));

        assertThat(over).isEqualTo(new JobStatus.Ended(startedAt,
                new JobSignal.Exited(startedAt.plus(Duration.ofMinutes(10)), 124, true)));
        fake.server.verify(1, postRequestedFor(urlPathMatching("/v1/instances/[^/]+/delete")));
        assertThat(provider.status("job_long").block(Duration.ofSeconds(20))).isEqualTo(over);
    }

    @Test
    void terminatingTwiceDeletesOnceAndAGoneJobIsLost() {
        ShadeformProvider provider = provider();
        fake.lifecycle("active");
        provider.launch(request("job_cancel", Duration.ofMinutes(10))).block(Duration.ofSeconds(20));

        provider.terminate("job_cancel").block(Duration.ofSeconds(20));
        provider.terminate("job_cancel").block(Duration.ofSeconds(20));

        fake.server.verify(1, postRequestedFor(urlPathMatching("/v1/instances/[^/]+/delete")));
        assertThat(provider.status("job_cancel").block(Duration.ofSeconds(20)))
                .isInstanceOfSatisfying(JobStatus.Ended.class, ended -> assertThat(ended.how()).isInstanceOf(JobSignal.Terminated.class));
        assertThat(provider.status("job_cancel").block(Duration.ofSeconds(20)))
                .isInstanceOfSatisfying(JobStatus.Ended.class, ended -> assertThat(ended.how()).isInstanceOf(JobSignal.Lost.class));
    }

    @Test
    void theKeyNeverAppearsInAFailureEvenWhenShadeformEchoesIt() {
        fake.server.stubFor(get(urlPathEqualTo("/v1/instances/types")).atPriority(1)
                .willReturn(ShadeformFake.json(403, "key " + ShadeformFake.API_KEY + " is not allowed")));

        assertThatThrownBy(() -> provider().offers(OfferQuery.any(1)).block(Duration.ofSeconds(20)))
                .isInstanceOfSatisfying(ProviderUnavailableException.class, failed -> {
                    assertThat(failed.providerFault()).isInstanceOf(ProviderFault.QuotaOrAuth.class);
                    assertThat(failed.getMessage()).doesNotContain(ShadeformFake.API_KEY).contains("[api key]");
                });
        assertThat(new ApiKey(ShadeformFake.API_KEY, "test").toString()).doesNotContain(ShadeformFake.API_KEY);
    }

    @Test
    void aRateLimitIsWaitedOutForAsLongAsRetryAfterSays() {
        fake.server.stubFor(get(urlPathEqualTo("/v1/instances/types")).atPriority(1)
                .inScenario("rate").whenScenarioStateIs(Scenario.STARTED)
                .willReturn(ShadeformFake.json(429, "Too Many Requests").withHeader("Retry-After", "1"))
                .willSetStateTo("calm"));
        long start = System.nanoTime();

        List<Offer> offers = provider().offers(OfferQuery.any(1)).block(Duration.ofSeconds(20));

        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofSeconds(1));
        assertThat(offers).isNotEmpty();
        fake.server.verify(2, getRequestedFor(urlPathEqualTo("/v1/instances/types")));
    }

    @Test
    void anOfferIdThatIsNotShadeformsIsRefusedWithoutCallingShadeform() {
        LaunchRequest foreign = new LaunchRequest("job_foreign", "hold", "H100", 1, List.of("true"), null, Map.of(),
                Duration.ofMinutes(1));

        LaunchOutcome outcome = provider().launch(foreign).block(Duration.ofSeconds(20));

        assertThat(outcome).isInstanceOfSatisfying(LaunchOutcome.LaunchFailed.class,
                failed -> assertThat(failed.fault()).isInstanceOf(ProviderFault.ProvisioningFailed.class));
        assertThat(fake.server.getAllServeEvents()).isEmpty();
    }
}
