package dev.gpubroker.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Everything a deployment can set under {@code gpubroker.*}; each value has an embedded default so that
 * {@code mvn spring-boot:run} works on a new machine. docs/configuration.md lists them.
 */
@ConfigurationProperties("gpubroker")
public record BrokerProperties(
        @DefaultValue(BrokerProperties.DATA_DIR_DEFAULT) Path dataDir,
        @DefaultValue("true") boolean embeddedDefaults,
        @DefaultValue Quotes quotes,
        @DefaultValue Reservations reservations,
        @DefaultValue Market market,
        @DefaultValue Http http,
        @DefaultValue Database database,
        @DefaultValue Chain chain,
        @DefaultValue Wallets wallets,
        @DefaultValue Policy policy,
        @DefaultValue Jobs jobs,
        @DefaultValue Metrics metrics) {

    public static final String DATA_DIR_PROPERTY = "gpubroker.data-dir";
    public static final String DATA_DIR_DEFAULT = "./data";

    /**
     * Jobs: how many times a job may move to another offer after providers' faults before its money is refunded, and
     * the time a failover keeps free before the escrow's deadline (a run must end well before anyone may reclaim).
     * {@code allowUnsandboxed}: where no sandbox can be made, run plain-command jobs without one, as the broker's user
     * (off by default: they are refused; docs/security.md). {@code sandboxFirstUid}: when the broker runs as root, each
     * sandboxed job runs as its own user, from this id up (65536 ids no account on the host may use).
     * {@code bubblewrap}: the bwrap program to use (empty: the one in /usr/bin, /bin or on the PATH).
     * {@code lease}: how long past a job's next due step the instance working on it keeps it; when that instance dies,
     * another takes the job up at most this long after the step was due ({@code jobs.JobEngine}). {@code pollInterval}: how often a
     * running job's provider is asked where it stands.
     */
    public record Jobs(
            @DefaultValue("2") int maxFailovers,
            @DefaultValue("1h") Duration escrowDeadlineMargin,
            @DefaultValue("false") boolean allowUnsandboxed,
            @DefaultValue("2000000000") long sandboxFirstUid,
            @DefaultValue("") String bubblewrap,
            @DefaultValue("6s") Duration lease,
            @DefaultValue("1s") Duration pollInterval) {
    }

    /**
     * The operator's metrics (docs/metrics.md). {@code refreshInterval}: how often each instance reads the gauges that
     * come from the database (reservations, payments and jobs by state, the escrowed total). {@code
     * reconciliationInterval}: how often the ledger is reconciled against the escrow's events on chain, on one instance at
     * a time; each run reads every escrow event from the chain, so at most once a minute.
     */
    public record Metrics(
            @DefaultValue("10s") Duration refreshInterval,
            @DefaultValue("5m") Duration reconciliationInterval) {

        public static final Duration RECONCILIATION_INTERVAL_MIN = Duration.ofMinutes(1);

        public Metrics {
            if (refreshInterval.isNegative() || refreshInterval.isZero()) {
                throw new IllegalArgumentException("gpubroker.metrics.refresh-interval must be positive, not "
                        + refreshInterval);
            }
            if (reconciliationInterval.compareTo(RECONCILIATION_INTERVAL_MIN) < 0) {
                throw new IllegalArgumentException("gpubroker.metrics.reconciliation-interval must be at least "
                        + RECONCILIATION_INTERVAL_MIN.toSeconds() + " s (each run reads every escrow event from the "
                        + "chain), not " + reconciliationInterval);
            }
        }
    }

    /**
     * The spend policy new agents get (USDC decimal strings; empty means no limit of that kind). The daily limit is a
     * rolling 24 hours.
     */
    public record Policy(
            @DefaultValue("100.00") String maxPerReservation,
            @DefaultValue("250.00") String dailyLimit,
            @DefaultValue("1000.00") String totalLimit,
            @DefaultValue("") String maxPricePerGpuHour,
            @DefaultValue List<String> allowedProviders,
            @DefaultValue List<String> allowedGpus,
            @DefaultValue("50.00") String approvalThreshold) {
    }

    public record Quotes(
            @DefaultValue("60s") Duration ttl,
            @DefaultValue("20") int maxPerAnswer,
            @DefaultValue("1.5") double failurePenaltyFactor) {
    }

    public record Reservations(
            @DefaultValue("10m") Duration holdTtl,
            @DefaultValue("1s") Duration expirySweepInterval,
            @DefaultValue("30s") Duration abandonedHoldAfter,
            @DefaultValue("100") int maxOpenPerAgent) {
    }

    /**
     * The providers. {@code jobRecordsDir}: where the simulated marketplace keeps each job's records (output, launch,
     * end); unset (null), {@code <data>/jobs}. Instances that share a database on one host set it to one directory, so
     * that any of them can take up a job another launched. ({@code local} keeps its own under the data directory: this
     * host's GPUs are sold by one instance.)
     */
    public record Market(
            @DefaultValue("3s") Duration providerTimeout,
            @DefaultValue("classpath:demo-marketplace.yml") String demoCatalog,
            @DefaultValue("true") boolean demoEnabled,
            @DefaultValue Local local,
            Path jobRecordsDir) {
    }

    /** Where this host's job records live: {@code gpubroker.market.job-records-dir}, else {@code <data>/jobs}. Absolute. */
    public Path jobRecordsDir() {
        Path dir = market.jobRecordsDir() != null ? market.jobRecordsDir() : dataDir.resolve("jobs");
        return dir.toAbsolutePath().normalize();
    }

    /**
     * This host's GPUs, sold as provider {@code local} (docs/local-provider.md). {@code enabled}: {@code auto} sells
     * them when nvidia-smi finds any, {@code true} always (without GPUs it lists no offers), {@code false} never.
     */
    public record Local(
            @DefaultValue("auto") Switch enabled,
            @DefaultValue("2.00") String pricePerGpuHour,
            @DefaultValue("local") String region,
            @DefaultValue("0.99") double reliability) {

        /** Written {@code auto}, {@code true} or {@code false}: Spring binds true and false to ON and OFF. */
        public enum Switch {
            AUTO, ON, OFF
        }
    }

    /** Origins and hosts beyond loopback that may reach /mcp (DNS-rebinding protection). */
    public record Http(
            @DefaultValue List<String> allowedOrigins,
            @DefaultValue List<String> allowedHosts) {
    }

    /**
     * The EVM chain payments settle on. {@code embedded}: the server starts anvil on loopback with its state under
     * the data directory and deploys a test USDC and the escrow there. {@code dev}: the same on an anvil someone else
     * runs at {@code rpcUrl}, for several instances sharing it: the first to start deploys, and records the deployment in
     * {@code deploymentFile} (default {@code <data>/chain/deployment.json}), which the others read, with the keystores,
     * from a shared directory. {@code rpc}: any JSON-RPC endpoint, with the
     * USDC and escrow addresses given (presets {@code base} and {@code base-sepolia} fill in chain id and USDC).
     * {@code chainId} on an embedded or dev chain: the id anvil runs with (default 31337; 84532 gives x402 v1 clients,
     * which know chains only by name, the name base-sepolia).
     * {@code embeddedBlockTime}: 0 mines each transaction at once; a whole number of seconds mines blocks at that
     * interval instead, as a real chain does (transactions then wait in the mempool). {@code anvil}: the anvil binary the
     * embedded chain runs; empty for the one packed into the jar (Linux x86-64), unpacked into {@code <data>/bin}.
     */
    public record Chain(
            @DefaultValue("embedded") String mode,
            @DefaultValue("") String preset,
            @DefaultValue("") String rpcUrl,
            @DefaultValue("0") long chainId,
            @DefaultValue("") String usdcAddress,
            @DefaultValue("") String escrowAddress,
            @DefaultValue("") String payeeAddress,
            @DefaultValue("USD Coin") String usdcDomainName,
            @DefaultValue("2") String usdcDomainVersion,
            @DefaultValue("1") int confirmations,
            @DefaultValue("10s") Duration rpcTimeout,
            @DefaultValue("30s") Duration receiptTimeout,
            @DefaultValue("15") int feeBumpPercent,
            @DefaultValue("1h") Duration reclaimGrace,
            @DefaultValue("24h") Duration escrowDeadlineAfterRun,
            @DefaultValue("1000.00") String demoAgentFunding,
            @DefaultValue("0s") Duration embeddedBlockTime,
            @DefaultValue("") String anvil,
            @DefaultValue("") String deploymentFile) {

        public boolean embedded() {
            return "embedded".equals(mode);
        }

        /** A development node (anvil) someone else runs, shared by several instances: {@code mode=dev}. */
        public boolean development() {
            return "dev".equals(mode);
        }
    }

    /**
     * Web3 Secret Storage keystores (agent wallets held by the server, the relayer). {@code dir}: where they live; unset
     * (null), {@code <data>/wallets}, so that everything stateful lives under the data directory ({@link #walletsDir()}).
     * The password comes from GPUBROKER_WALLET_PASSWORD, or the password file, created at first start with embedded
     * defaults.
     */
    public record Wallets(
            Path dir,
            @DefaultValue("") String passwordFile) {

        /** Whether {@code gpubroker.wallets.dir} was set, rather than left to its default under the data directory. */
        public boolean dirConfigured() {
            return dir != null;
        }
    }

    /** The keystores' directory: {@code gpubroker.wallets.dir} when set, else {@code <data>/wallets}. Absolute. */
    public Path walletsDir() {
        Path dir = wallets.dir() != null ? wallets.dir() : dataDir.resolve("wallets");
        return dir.toAbsolutePath().normalize();
    }

    /**
     * PostgreSQL's R2DBC URL ({@code r2dbc:postgresql://user:password@host:5432/database}); empty means the embedded H2
     * file database under the data directory. {@code readCacheTtl}: how long {@code job_status} and {@code account} may
     * answer from memory what they read (this instance's own writes show at once, whatever it is; on PostgreSQL another
     * instance's show within it); zero reads the database at every call.
     */
    public record Database(
            @DefaultValue("") String url,
            @DefaultValue("") String username,
            @DefaultValue("") String password,
            @DefaultValue("1s") Duration readCacheTtl) {

        private static final java.util.regex.Pattern PASSWORD_IN_URL =
                java.util.regex.Pattern.compile("(://[^/@:]*:)[^/@]*@");

        /** The URL as it may be shown: a password in it replaced by {@code ***}. */
        public String redactedUrl() {
            return PASSWORD_IN_URL.matcher(url).replaceFirst("$1***@");
        }

        /** Never the password, whichever way it was given. */
        @Override
        public String toString() {
            return "Database[url=" + redactedUrl() + ", username=" + username + ", password="
                    + (password.isEmpty() ? "" : "***") + ", readCacheTtl=" + readCacheTtl + "]";
        }
    }
}
