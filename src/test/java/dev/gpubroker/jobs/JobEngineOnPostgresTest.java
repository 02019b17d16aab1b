package dev.gpubroker.jobs;

import dev.gpubroker.support.PostgresDatabase;

/** The job engine's leases on PostgreSQL, where several instances share the database. */
@PostgresDatabase
class JobEngineOnPostgresTest extends JobEngineTest {
}
