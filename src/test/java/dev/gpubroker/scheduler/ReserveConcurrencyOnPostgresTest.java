package dev.gpubroker.scheduler;

import dev.gpubroker.support.PostgresDatabase;

/**
 * Fifty reserves at once against ten units, and one idempotency key raced by twelve calls, on PostgreSQL:
 * its row locks and conditional updates keep the promises H2's keep.
 */
@PostgresDatabase
class ReserveConcurrencyOnPostgresTest extends ReserveConcurrencyTest {
}
