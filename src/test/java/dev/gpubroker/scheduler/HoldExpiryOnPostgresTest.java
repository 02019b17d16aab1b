package dev.gpubroker.scheduler;

import dev.gpubroker.support.PostgresDatabase;

/**
 * Holds expire and give their capacity back on PostgreSQL as on H2: the timers' queries and conditional
 * updates on the other database.
 */
@PostgresDatabase
class HoldExpiryOnPostgresTest extends HoldExpiryTest {
}
