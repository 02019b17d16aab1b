package dev.gpubroker.lifecycle;

import dev.gpubroker.support.PostgresDatabase;

/** Sweeps take turns under their leases on PostgreSQL as on H2. */
@PostgresDatabase
class PeriodicSweepLeaseOnPostgresTest extends PeriodicSweepLeaseTest {
}
