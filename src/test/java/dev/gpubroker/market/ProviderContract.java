package dev.gpubroker.market;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import reactor.blockhound.BlockHound;
import reactor.blockhound.BlockingOperationError;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * What every provider must do, whatever it sells: the demo marketplace, this host, and each real provider against a
 * fake built from its published API. A provider runs this suite by extending it.
 * <ul>
 * <li>its offers have valid units (a known GPU model, VRAM per GPU, a positive price per GPU-hour, free GPUs, a
 *     reliability in [0, 1]) and carry its name;</li>
 * <li>holding (its own holds, or the re-check of a provider that has none), then launch → running → logs →
 *     terminate; terminating twice, or a job it never saw, is fine; a job it never saw is lost;</li>
 * <li>each fault it can show maps to the right {@link ProviderFault} kind;</li>
 * <li>nothing blocks: each call made on a thread that must not block (BlockHound watches) answers there.</li>
 * </ul>
 */
public abstract class ProviderContract {

    /** The line the contract's job prints; a provider's fake prints it in the job's logs. */
    public static final String MARKER = "gpubroker-contract-ok";

    private static final String NON_BLOCKING_PREFIX = "contract-nonblocking-";
    private static final Scheduler NON_BLOCKING;

    static {
        // Only the contract's own threads are watched, so no other test in this JVM is affected.
        BlockHound.builder()
                .nonBlockingThreadPredicate(current -> current.or(thread -> thread.getName().startsWith(NON_BLOCKING_PREFIX)))
                // A worker waiting for its next task is idle, not blocked (Reactor's own integration allows the same).
                .allowBlockingCallsInside(java.util.concurrent.ThreadPoolExecutor.class.getName(), "getTask")
                .install();
        NON_BLOCKING = Schedulers.newParallel(NON_BLOCKING_PREFIX + "calls", 2, true);
    }

    private final List<String> launched = new ArrayList<>();

    /** The provider under test, ready to answer (the same instance for the whole test). */
    protected abstract ComputeProvider provider();

    /** The query whose offers the suite launches on. */
    protected OfferQuery query() {
        return OfferQuery.any(1);
    }

    /** A job this provider can run and that prints {@link #MARKER}: by default a plain command. */
    protected LaunchRequest launchRequest(String jobId, String holdId, Offer offer) {
        return new LaunchRequest(jobId, holdId, offer.offerId(), 1, List.of("sh", "-c", "echo " + MARKER), null,
                Map.of(), Duration.ofMinutes(10));
    }

    /** What provokes each fault this provider can show, and the kind it must be read as. At least one. */
    protected abstract List<FaultScenario> faultScenarios();

    /** The longest a job of this provider takes to come up and print its line. */
    protected Duration upWithin() {
        return Duration.ofSeconds(30);
    }

    /**
     * A fault to provoke: {@code arrange} sets the provider (or its fake) up, {@code call} is the call that must
     * fail, read as {@code expected}: a {@link ProviderUnavailableException}, a {@link LaunchOutcome.LaunchFailed}, a
     * {@link HoldOutcome.NoCapacity} (no capacity), or an ended status lost by the provider (interrupted).
     */
    public record FaultScenario(String name, Runnable arrange, Supplier<Mono<?>> call,
            Class<? extends ProviderFault> expected) {
    }

    @AfterEach
    void terminateWhatWasLaunched() {
        for (String jobId : launched) {
            try {
                provider().terminate(jobId).block(Duration.ofSeconds(20));
            } catch (RuntimeException ignored) {
                // A fault scenario may leave the provider refusing; the fake goes with the test.
            }
        }
    }

    @Test
    void offersHaveValidUnitsAndCarryTheProvidersName() {
        List<Offer> offers = onNonBlockingThread(() -> provider().offers(query()));

        assertThat(offers).as("offers for " + query()).isNotEmpty();
        for (Offer offer : offers) {
            assertThat(offer.provider()).isEqualTo(provider().name());
            assertThat(GpuModels.isKnown(offer.gpu())).as(offer.gpu() + " is a known model").isTrue();
            assertThat(offer.vramGb()).as("VRAM per GPU, GB").isBetween(1, 1024);
            assertThat(offer.price().microsPerGpuHour()).as("micro-USDC per GPU-hour").isBetween(1L, 1_000_000_000L);
            assertThat(offer.availableGpus()).isNotNegative();
            assertThat(offer.reliability()).isBetween(0.0, 1.0);
            assertThat(offer.offerId()).isNotBlank();
        }
    }

    @Test
    void aHeldOfferLaunchesRunsShowsItsOutputAndTerminatesTwice() {
        Offer offer = firstFitting();
        String holdId = "hold_" + UUID.randomUUID();
        HoldOutcome held = onNonBlockingThread(() -> provider().holds().hold(new HoldRequest(holdId, offer.offerId(), 1,
                Instant.now().plusSeconds(600), offer.price())));
        assertThat(held).isEqualTo(new HoldOutcome.Held(holdId));

        String jobId = "job_" + UUID.randomUUID().toString().replace("-", "");
        launched.add(jobId);
        LaunchOutcome outcome = onNonBlockingThread(() -> provider().launch(launchRequest(jobId, holdId, offer)));
        assertThat(outcome).isEqualTo(new LaunchOutcome.Launched(jobId));
        assertThat(onNonBlockingThread(() -> provider().launch(launchRequest(jobId, holdId, offer))))
                .as("a second launch of the same job launches nothing more").isEqualTo(new LaunchOutcome.Launched(jobId));

        JobStatus up = await().atMost(upWithin()).pollInterval(Duration.ofMillis(200))
                .until(() -> onNonBlockingThread(() -> provider().status(jobId)),
                        status -> status instanceof JobStatus.Running || status instanceof JobStatus.Ended);
        if (up instanceof JobStatus.Ended ended) {
            assertThat(ended.how()).as("it ran to its end").isInstanceOf(JobSignal.Exited.class);
            assertThat(ended.startedAt()).as("it ran").isNotNull();
        }
        await().atMost(upWithin()).pollInterval(Duration.ofMillis(200))
                .until(() -> output(jobId), lines -> lines.stream().anyMatch(line -> line.contains(MARKER)));

        onNonBlockingThread(() -> provider().terminate(jobId).thenReturn(true));
        onNonBlockingThread(() -> provider().terminate(jobId).thenReturn(true));
        JobStatus after = await().atMost(upWithin()).pollInterval(Duration.ofMillis(200))
                .until(() -> onNonBlockingThread(() -> provider().status(jobId)), JobStatus.Ended.class::isInstance);
        assertThat(((JobStatus.Ended) after).how()).isNotInstanceOf(JobSignal.Running.class);
        onNonBlockingThread(() -> provider().holds().release(holdId).thenReturn(true));
    }

    @Test
    void aJobTheProviderNeverSawIsLostAndTerminatingItIsFine() {
        String jobId = "job_never_" + UUID.randomUUID().toString().replace("-", "");

        JobStatus status = onNonBlockingThread(() -> provider().status(jobId));

        assertThat(status).isInstanceOfSatisfying(JobStatus.Ended.class,
                ended -> assertThat(ended.how()).isInstanceOf(JobSignal.Lost.class));
        onNonBlockingThread(() -> provider().terminate(jobId).thenReturn(true));
        onNonBlockingThread(() -> provider().holds().release("hold_never_seen").thenReturn(true));
    }

    @TestFactory
    Stream<DynamicTest> eachFaultMapsToItsKind() {
        List<FaultScenario> scenarios = faultScenarios();
        assertThat(scenarios).as("a provider shows at least one fault scenario").isNotEmpty();
        return scenarios.stream().map(scenario -> DynamicTest.dynamicTest(scenario.name(), () -> {
            scenario.arrange().run();
            ProviderFault fault = faultOf(scenario.call());
            assertThat(fault).as(scenario.name()).isInstanceOf(scenario.expected());
            assertThat(fault.reason()).as("a reason a person can read").isNotBlank();
        }));
    }

    /** The fault a call ended in, whichever way the seam lets it say so. */
    private ProviderFault faultOf(Supplier<Mono<?>> call) {
        Object answer;
        try {
            answer = onNonBlockingThread(call::get);
        } catch (ProviderUnavailableException unavailable) {
            return unavailable.providerFault();
        }
        return switch (answer) {
            case LaunchOutcome.LaunchFailed failed -> failed.fault();
            case HoldOutcome.NoCapacity full -> new ProviderFault.NoCapacity(full.reason());
            case HoldOutcome.Unholdable gone -> new ProviderFault.NoCapacity(gone.reason());
            case JobStatus.Ended ended when ended.how() instanceof JobSignal.Lost lost ->
                    new ProviderFault.Interrupted(lost.reason());
            case null -> fail("the call answered nothing");
            default -> fail("the call did not fail: it answered " + answer);
        };
    }

    protected Offer firstFitting() {
        List<Offer> offers = onNonBlockingThread(() -> provider().offers(query()));
        return offers.stream()
                .filter(query()::accepts)
                .findFirst()
                .orElseThrow(() -> new AssertionError("no offer of " + provider().name() + " fits " + query() + ": "
                        + offers));
    }

    private List<String> output(String jobId) {
        List<String> lines = new ArrayList<>();
        String cursor = null;
        for (int page = 0; page < 100; page++) {
            String from = cursor;
            LogPage logs = onNonBlockingThread(() -> provider().logs(jobId, from, 500));
            lines.addAll(logs.lines());
            if (logs.nextCursor() == null || logs.lines().isEmpty()) {
                break;
            }
            cursor = logs.nextCursor();
        }
        return lines;
    }

    /**
     * Makes the call on a thread BlockHound watches and waits here for its answer: a provider that blocks there fails
     * with the blocking call named. A provider's own failures come through as they are.
     */
    protected static <T> T onNonBlockingThread(Supplier<Mono<T>> call) {
        try {
            return Mono.defer(call).subscribeOn(NON_BLOCKING).publishOn(NON_BLOCKING)
                    .map(Optional::ofNullable)
                    .defaultIfEmpty(Optional.empty())
                    .block(Duration.ofSeconds(60))
                    .orElse(null);
        } catch (RuntimeException | BlockingOperationError error) {
            Throwable cause = reactor.core.Exceptions.unwrap(error);
            if (!(cause instanceof BlockingOperationError) && cause.getCause() instanceof BlockingOperationError) {
                cause = cause.getCause();
            }
            if (cause instanceof BlockingOperationError blocked) {
                throw new AssertionError("the provider blocked a thread it must not: " + blocked.getMessage(), blocked);
            }
            if (cause instanceof ProviderUnavailableException unavailable) {
                throw unavailable;
            }
            throw error;
        }
    }
}
