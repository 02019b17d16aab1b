package dev.gpubroker.payments;

import dev.gpubroker.support.PostgresDatabase;

/**
 * Payments an agent signs itself, on PostgreSQL.
 */
@PostgresDatabase
class AgentSignedPaymentOnPostgresTest extends AgentSignedPaymentTest {
}
