package dev.gpubroker.payments;

import dev.gpubroker.support.PostgresDatabase;

/**
 * Batched settlement on PostgreSQL: a membership's claim that collides with a live one is a failed statement there
 * (not a transaction's end), and the unique index on live_reservation_id keeps NULLs apart as on H2.
 */
@PostgresDatabase
class SettlementBatchingOnPostgresTest extends SettlementBatchingTest {
}
