package dev.gpubroker.bench;

import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import io.modelcontextprotocol.client.McpSyncClient;

import dev.gpubroker.support.BrokerJar;
import dev.gpubroker.support.Fleet;
import dev.gpubroker.support.JarClient;
import dev.gpubroker.support.TestPostgres;

/**
 * Whole purchases per second through one and through two broker jars on one PostgreSQL database and one chain: each
 * flow is quote → reserve → pay → run (a job that exits at once) → settled (its settlement or refund submitted), every
 * agent its own. Both instances run throughout (both warmed up first); rounds alternate between sending every flow to
 * the first and spreading the flows over both, and the medians are compared. Prints numbers; not a
 * test. Needs PostgreSQL's server binaries (as {@code .ci/run} installs). Run after {@code mvn package -DskipTests}:
 *
 * <pre>mvn -q test-compile exec:java -Dexec.mainClass=dev.gpubroker.bench.InstancesBenchmark -Dexec.classpathScope=test</pre>
 *
 * Options: {@code -Dbench.flows=60} per round, {@code -Dbench.concurrency=20} flows at a time, {@code -Dbench.rounds=3}.
 */
public final class InstancesBenchmark {

    private static final int FLOWS = Integer.getInteger("bench.flows", 60);
    private static final int CONCURRENCY = Integer.getInteger("bench.concurrency", 20);
    private static final int ROUNDS = Integer.getInteger("bench.rounds", 3);

    public static void main(String[] args) throws Exception {
        TestPostgres postgres = TestPostgres.server();
        try (Fleet fleet = Fleet.start(postgres)) {
            BrokerJar a = fleet.first();
            BrokerJar b = fleet.startAnother();
            round(fleet, "warm-up, one instance", List.of(a), FLOWS / 2);
            round(fleet, "warm-up, two instances", List.of(a, b), FLOWS / 2);
            List<Double> one = new ArrayList<>();
            List<Double> two = new ArrayList<>();
            for (int i = 0; i < ROUNDS; i++) {
                one.add(round(fleet, "one instance", List.of(a), FLOWS));
                two.add(round(fleet, "two instances", List.of(a, b), FLOWS));
            }
            double oneMedian = median(one);
            double twoMedian = median(two);
            System.out.printf("%nflows/s, median of %d rounds: one instance %.2f, two instances %.2f (%+.0f %%); %d cores%n",
                    ROUNDS, oneMedian, twoMedian, 100 * (twoMedian / oneMedian - 1), Runtime.getRuntime().availableProcessors());
        }
        System.exit(0);
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        return sorted.get(sorted.size() / 2);
    }

    private static int roundNumber;

    private static double round(Fleet fleet, String name, List<BrokerJar> instances, int flows) throws Exception {
        String prefix = "bench" + (++roundNumber);
        List<Fleet.Agent> agents = fleet.agents(prefix, flows, BigInteger.valueOf(1_000_000), null);
        ExecutorService pool = Executors.newFixedThreadPool(CONCURRENCY);
        long start = System.nanoTime();
        List<Future<Long>> results = new ArrayList<>();
        for (int i = 0; i < flows; i++) {
            Fleet.Agent agent = agents.get(i);
            BrokerJar instance = instances.get(i % instances.size());
            String key = prefix + "-" + i;
            results.add(pool.submit(() -> flow(instance, agent, key)));
        }
        List<Long> millis = new ArrayList<>();
        for (Future<Long> result : results) {
            millis.add(result.get(5, TimeUnit.MINUTES));
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        pool.shutdownNow();
        millis.sort(null);
        double perSecond = flows / seconds;
        System.out.printf("%-22s %3d flows in %6.1f s: %5.2f flows/s; one flow p50 %5d ms, p95 %5d ms%n", name, flows,
                seconds, perSecond, millis.get(millis.size() / 2), millis.get((int) (millis.size() * 0.95)));
        return perSecond;
    }

    /** One whole purchase; answers its duration in milliseconds. */
    @SuppressWarnings("unchecked")
    private static long flow(BrokerJar instance, Fleet.Agent agent, String key) throws Exception {
        long start = System.nanoTime();
        McpSyncClient client = JarClient.connect(instance, agent.apiKey());
        try {
            String reservationId = (String) JarClient.structured(client, "reserve", Map.of("quoteId", Fleet.quote(client),
                    "idempotencyKey", key + "-reserve")).get("reservationId");
            JarClient.structured(client, "pay", Map.of("reservationId", reservationId, "idempotencyKey", key + "-pay"));
            String jobId = (String) JarClient.structured(client, "run", Map.of("reservationId", reservationId,
                    "idempotencyKey", key + "-run", "command", List.of("true"))).get("jobId");
            JarClient.awaitSettled(client, jobId);
            return Duration.ofNanos(System.nanoTime() - start).toMillis();
        } finally {
            client.closeGracefully();
        }
    }
}
