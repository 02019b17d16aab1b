package dev.gpubroker.admin;

import dev.gpubroker.support.PostgresDatabase;

/**
 * The operator's listings, filters and pages, the audit log and approvals, on PostgreSQL.
 */
@PostgresDatabase
class AdminOperationsOnPostgresTest extends AdminOperationsTest {
}
