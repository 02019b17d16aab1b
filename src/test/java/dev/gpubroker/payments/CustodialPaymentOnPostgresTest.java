package dev.gpubroker.payments;

import dev.gpubroker.support.PostgresDatabase;

/**
 * Custodial payments on PostgreSQL: the relayer's nonces, the chain transactions (CLOB columns there a
 * text domain), the ledger.
 */
@PostgresDatabase
class CustodialPaymentOnPostgresTest extends CustodialPaymentTest {
}
