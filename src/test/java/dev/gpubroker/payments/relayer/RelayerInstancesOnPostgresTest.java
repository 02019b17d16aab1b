package dev.gpubroker.payments.relayer;

import dev.gpubroker.support.PostgresDatabase;

/**
 * Two relayer instances on one PostgreSQL database and one chain, as several brokers will run: the nonce row's lock,
 * the free nonces and the outcome lease keep their promises there as on H2.
 */
@PostgresDatabase
class RelayerInstancesOnPostgresTest extends RelayerInstancesTest {
}
