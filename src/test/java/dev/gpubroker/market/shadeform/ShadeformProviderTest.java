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
import static org.awaitility.Awaitility.await;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

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
import dev.gpubroker.market.remote.ReadinessProbe;
import tools.jackson.databind.JsonNode;

/**
 * What the contract does not cover: Shadeform's exact requests, its prices, its limits and its key, and how the broker
 * watches a job's container on its VM over SSH (what it bills from, when it deletes the VM).
 */
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
        return fake.provider(ShadeformSettings.defaults(fake.baseUrl()), markupPercent, clock);
    }

    private ShadeformProvider provider(ShadeformSettings settings) {
        return fake.provider(settings, BigDecimal.ZERO, clock);
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

    private static LaunchRequest running(String jobId, String script, Duration maxDuration) {
        return new LaunchRequest(jobId, "hold_" + jobId, ShadeformProviderContractTest.H100_OFFER, 1,
                List.of("sh", "-c", script), null, Map.of("GREETING", "hello from the agent"), maxDuration);
    }

    private static JobStatus statusOf(ShadeformProvider provider, String jobId) {
        return provider.status(jobId).block(Duration.ofSeconds(20));
    }

    private static JobStatus awaitStatus(ShadeformProvider provider, String jobId, Class<? extends JobStatus> kind) {
        return await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> statusOf(provider, jobId), kind::isInstance);
    }

    @Test
    void theVmLetsInTheBrokersOwnKeyWhichIsAddedToTheAccountOnceAndFoundThereAfterARestart() {
        ShadeformProvider provider = provider();
        provider.launch(request("job_key_1", Duration.ofMinutes(10))).block(Duration.ofSeconds(20));
        provider.launch(request("job_key_2", Duration.ofMinutes(10))).block(Duration.ofSeconds(20));
        provider().launch(request("job_key_3", Duration.ofMinutes(10))).block(Duration.ofSeconds(20));

        fake.server.verify(1, postRequestedFor(urlPathEqualTo("/v1/sshkeys/add")));
        assertThat(fake.sshKeys()).singleElement().satisfies(key ->
                assertThat(key.path("public_key").asString()).startsWith("ssh-rsa ").endsWith(" gpubroker"));
        String keyId = fake.sshKeys().get(0).path("id").asString();
        assertThat(fake.createRequests()).hasSize(3)
                .allSatisfy(body -> assertThat(body.path("ssh_key_id").asString()).isEqualTo(keyId));
    }

    @Test
    void aJobIsBilledFromDockersStampOfItsProbeLineNeverWhileTheImageIsPulledAndItsOutputIsReadOnTheVm() {
        fake.lifecycle("active");
        // The pull lasts until the test ends it, however slowly a loaded machine gets there (it once took over 3 s).
        java.util.concurrent.CountDownLatch pulled = new java.util.concurrent.CountDownLatch(1);
        fake.holdPull(pulled);
        ShadeformProvider provider = provider();
        provider.launch(running("job_active", "echo \"$GREETING\"; sleep 600", Duration.ofMinutes(10)))
                .block(Duration.ofSeconds(20));

        assertThat(statusOf(provider, "job_active")).as("the image is being pulled").isInstanceOf(JobStatus.Starting.class);
        Instant pullEnded = Instant.now();
        pulled.countDown();
        JobStatus running = awaitStatus(provider, "job_active", JobStatus.Running.class);

        assertThat(running).isInstanceOfSatisfying(JobStatus.Running.class, up -> {
            assertThat(up.startedAt()).as("after the pull, stamped by the VM's Docker")
                    .isAfter(pullEnded).isBefore(Instant.now());
            assertThat(up.readiness()).isEqualTo("1 x H100 found by nvidia-smi");
        });
        LogPage first = await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
                .until(() -> provider.logs("job_active", null, 100).block(Duration.ofSeconds(20)),
                        page -> page.lines().size() >= 2);
        assertThat(first.lines()).hasSize(2);
        assertThat(first.lines().get(0)).isEqualTo(ReadinessProbe.PREFIX + "NVIDIA H100 80GB HBM3, 81559;");
        assertThat(first.lines().get(1)).isEqualTo("hello from the agent");
        assertThat(first.nextCursor()).isEqualTo("2");
        assertThat(provider.logs("job_active", first.nextCursor(), 100).block(Duration.ofSeconds(20)))
                .isEqualTo(new LogPage(List.of(), "2"));
        assertThat(provider.logs("job_active", "1", 100).block(Duration.ofSeconds(20)).lines())
                .containsExactly("hello from the agent");
        assertThat(provider.logs("job_active", "99999999999999999999", 100).block(Duration.ofSeconds(20)))
                .as("a cursor past any line count (job_logs lets 20 digits through)")
                .isEqualTo(new LogPage(List.of(), "99999999999999999999"));
    }

    @Test
    void aJobEndsWhenItsContainerExitsWithDockersCodeAndTimeAndItsVmIsDeletedAfterTheOutputWasKept() {
        fake.lifecycle("active");
        Duration retention = Duration.ofSeconds(2);
        ShadeformProvider provider = provider(ShadeformSettings.defaults(fake.baseUrl()).withLogRetention(retention));
        Instant launched = clock.instant();
        provider.launch(running("job_exit", "echo working; sleep 1; exit 3", Duration.ofMinutes(10)))
                .block(Duration.ofSeconds(20));

        JobStatus ended = awaitStatus(provider, "job_exit", JobStatus.Ended.class);
        // The broker saw the exit between the launch and now: the update was written by then.
        Instant seen = clock.instant();

        assertThat(ended).isInstanceOfSatisfying(JobStatus.Ended.class, over -> {
            assertThat(over.startedAt()).isNotNull();
            assertThat(over.readiness()).isEqualTo("1 x H100 found by nvidia-smi");
            assertThat(over.how()).isInstanceOfSatisfying(JobSignal.Exited.class, exited -> {
                assertThat(exited.exitCode()).isEqualTo(3);
                assertThat(exited.timedOut()).isFalse();
                assertThat(Duration.between(over.startedAt(), exited.at())).as("the sleep, by Docker's clock")
                        .isBetween(Duration.ofMillis(900), Duration.ofSeconds(5));
            });
        });
        Instant finishedAt = ((JobSignal.Exited) ((JobStatus.Ended) ended).how()).at();
        assertThat(fake.updateRequests()).as("the exit is written on the instance, Shadeform's auto-delete brought forward")
                .singleElement().satisfies(update -> {
                    assertThat(update.path("tags").toString()).contains("gpubroker-job")
                            .contains("gpubroker-exited-" + finishedAt.toEpochMilli() + "-3");
                    assertThat(Instant.parse(update.path("auto_delete").path("date_threshold").asString()))
                            .as("the retention after the broker saw the exit")
                            .isBetween(launched.plus(retention), seen.plus(retention));
                });
        assertThat(statusOf(provider, "job_exit")).as("asked again").isEqualTo(ended);
        assertThat(fake.updateRequests()).as("written once").hasSize(1);
        assertThat(provider.logs("job_exit", null, 100).block(Duration.ofSeconds(20)).lines())
                .as("the output outlives the job for the retention").contains("working");
        fake.server.verify(0, postRequestedFor(urlPathMatching("/v1/instances/[^/]+/delete")));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                fake.server.verify(1, postRequestedFor(urlPathMatching("/v1/instances/[^/]+/delete"))));
    }

    @Test
    void aJobThatPrintsWithoutEndNeitherStallsItsStatusNorFloodsTheBroker() {
        fake.lifecycle("active");
        ShadeformProvider provider = provider();
        // 8 MB on one line, then 3,000 short lines.
        provider.launch(running("job_flood", "head -c 8000000 /dev/zero | tr '\\0' x; echo; seq 1 3000; sleep 600",
                Duration.ofMinutes(10))).block(Duration.ofSeconds(20));
        await().atMost(Duration.ofSeconds(30)).until(() -> provider.logs("job_flood", "2", 10).block(Duration.ofSeconds(20))
                .lines().size() == 10);

        assertThat(awaitStatus(provider, "job_flood", JobStatus.Running.class)).isInstanceOfSatisfying(JobStatus.Running.class,
                running -> assertThat(running.readiness()).isEqualTo("1 x H100 found by nvidia-smi"));
        LogPage flood = provider.logs("job_flood", "1", 1000).block(Duration.ofSeconds(20));
        assertThat(flood.lines()).as("the endless line, cut at the page's bound").singleElement()
                .satisfies(line -> assertThat(line.length()).isEqualTo(1024 * 1024));
        LogPage after = provider.logs("job_flood", "2", 5000).block(Duration.ofSeconds(20));
        assertThat(after.lines()).as("a page holds at most 1,000 lines").hasSize(1000).startsWith("1", "2");
        assertThat(after.nextCursor()).isEqualTo("1002");
    }

    @Test
    void aBrokerThatFindsTheVmDeletingAfterAnotherSawTheExitReportsThatExitNotTheDeletion() {
        fake.lifecycle("active");
        ShadeformProvider first = provider();
        first.launch(running("job_handover", "echo done; exit 7", Duration.ofMinutes(10))).block(Duration.ofSeconds(20));
        JobStatus seen = awaitStatus(first, "job_handover", JobStatus.Ended.class);
        JobSignal.Exited exited = (JobSignal.Exited) ((JobStatus.Ended) seen).how();

        // That broker stops before it records the end; the VM is deleted (its retention, or Shadeform's auto-delete)
        // ten minutes later, and another broker asks.
        clock.moveAhead(Duration.ofMinutes(10));
        first.terminate("job_handover").block(Duration.ofSeconds(20));
        JobStatus asked = statusOf(provider(), "job_handover");

        assertThat(asked).isEqualTo(new JobStatus.Ended(null, new JobSignal.Exited(
                exited.at().truncatedTo(java.time.temporal.ChronoUnit.MILLIS), 7, false)));
    }

    @Test
    void aGpuThatIsNotThePromisedOneIsNeverBilledAndItsVmIsDeleted() {
        fake.lifecycle("active");
        fake.gpusShown("NVIDIA A10, 23028");
        ShadeformProvider provider = provider();
        provider.launch(running("job_wrong_gpu", "sleep 600", Duration.ofMinutes(10))).block(Duration.ofSeconds(20));

        JobStatus ended = awaitStatus(provider, "job_wrong_gpu", JobStatus.Ended.class);

        assertThat(ended).isInstanceOfSatisfying(JobStatus.Ended.class, lost -> {
            assertThat(lost.startedAt()).as("never billed").isNull();
            assertThat(lost.how()).isInstanceOfSatisfying(JobSignal.Lost.class, how ->
                    assertThat(how.reason()).contains("not the GPU promised").contains("0 x H100 where 1 were promised")
                            .contains("NVIDIA A10"));
        });
        fake.server.verify(1, postRequestedFor(urlPathMatching("/v1/instances/[^/]+/delete")));
    }

    @Test
    void aContainerThatNeverStartsIsStartingUntilTheReadyTimeoutThenLostNeverBilled() {
        fake.lifecycle("active");
        fake.pullTime(Duration.ofHours(1));
        ShadeformProvider provider = provider();
        provider.launch(running("job_no_image", "sleep 600", Duration.ofMinutes(10))).block(Duration.ofSeconds(20));

        assertThat(statusOf(provider, "job_no_image")).isInstanceOf(JobStatus.Starting.class);
        clock.moveAhead(Duration.ofMinutes(31));
        JobStatus late = statusOf(provider, "job_no_image");

        assertThat(late).isInstanceOfSatisfying(JobStatus.Ended.class, lost -> {
            assertThat(lost.startedAt()).isNull();
            assertThat(lost.how()).isInstanceOfSatisfying(JobSignal.Lost.class, how ->
                    assertThat(how.reason()).contains("no container ran on the VM"));
        });
        fake.server.verify(1, postRequestedFor(urlPathMatching("/v1/instances/[^/]+/delete")));
    }

    @Test
    void aVmThatDoesNotLetTheBrokersKeyInIsATransientFaultNeverAFreeOrABilledRun() {
        // Created elsewhere, with Shadeform's managed key (no ssh_key_id): its VM lets this broker's key not in.
        fake.lifecycle("active");
        fake.existing("job_foreign_key", "active");
        ShadeformProvider provider = provider();

        assertThatThrownBy(() -> statusOf(provider, "job_foreign_key"))
                .isInstanceOfSatisfying(ProviderUnavailableException.class, failed -> {
                    assertThat(failed.providerFault()).isInstanceOf(ProviderFault.Transient.class);
                    assertThat(failed.getMessage()).contains("did not let the broker's SSH key in");
                });
        fake.server.verify(0, postRequestedFor(urlPathMatching("/v1/instances/[^/]+/delete")));
    }

    @Test
    void aJobPastItsTimeLimitIsDeletedAndEndsTimedOut() {
        ShadeformProvider provider = provider();
        fake.lifecycle("active");
        provider.launch(running("job_long", "sleep 600", Duration.ofMinutes(10))).block(Duration.ofSeconds(20));
        JobStatus running = awaitStatus(provider, "job_long", JobStatus.Running.class);
        Instant startedAt = ((JobStatus.Running) running).startedAt();

        clock.moveAhead(Duration.ofMinutes(11));
        JobStatus over = statusOf(provider, "job_long");

        assertThat(over).isEqualTo(new JobStatus.Ended(startedAt,
                new JobSignal.Exited(startedAt.plus(Duration.ofMinutes(10)), 124, true), "1 x H100 found by nvidia-smi"));
        fake.server.verify(1, postRequestedFor(urlPathMatching("/v1/instances/[^/]+/delete")));
        assertThat(statusOf(provider, "job_long")).isInstanceOfSatisfying(JobStatus.Ended.class, deleted ->
                assertThat(deleted.how()).isInstanceOfSatisfying(JobSignal.Exited.class, exited -> {
                    assertThat(exited.exitCode()).isEqualTo(124);
                    assertThat(exited.timedOut()).isTrue();
                }));
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
