package dev.gpubroker.jobs;

import dev.gpubroker.support.PostgresDatabase;

/**
 * A cancel racing a run and racing a payment, on PostgreSQL: the conditional updates that decide each race keep a
 * reservation billed or refunded, never both, there too.
 */
@PostgresDatabase
class CancelRacesOnPostgresTest extends CancelRacesTest {
}
