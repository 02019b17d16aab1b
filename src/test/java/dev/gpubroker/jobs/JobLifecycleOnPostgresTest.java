package dev.gpubroker.jobs;

import dev.gpubroker.support.PostgresDatabase;

/**
 * Jobs from run to settlement on PostgreSQL: metering, failover, heartbeats, cancels, and
 * job_status's one-statement read of a job with its events.
 *
 * <p>Not the maximum duration: a minute of waiting for a job's clock, with the same statements as the others.
 */
@PostgresDatabase(except = "aJobIsStoppedAtItsMaximumDurationAndNeverBilledMoreThanEscrowed")
class JobLifecycleOnPostgresTest extends JobLifecycleTest {
}
