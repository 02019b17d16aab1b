package dev.gpubroker.policy;

import dev.gpubroker.support.PostgresDatabase;

/**
 * Spend limits under concurrency on PostgreSQL: the agent's policy row locked FOR UPDATE keeps holds within
 * the limits there too.
 */
@PostgresDatabase
class PolicyEnforcementOnPostgresTest extends PolicyEnforcementTest {
}
