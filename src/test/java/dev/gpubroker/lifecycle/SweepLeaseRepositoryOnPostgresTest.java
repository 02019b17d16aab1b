package dev.gpubroker.lifecycle;

import dev.gpubroker.support.PostgresDatabase;

/**
 * The sweep leases on PostgreSQL as on H2: the conditional update under concurrent renewals and takeovers, and the
 * key that lets one of two first claims through.
 */
@PostgresDatabase
class SweepLeaseRepositoryOnPostgresTest extends SweepLeaseRepositoryTest {
}
