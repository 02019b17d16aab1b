-- Several broker instances may share this database, and each runs the same periodic sweeps (job recovery, the
-- reservation timers, escrow recovery, transaction tracking). A sweep's pass runs only on the instance that holds the
-- sweep's lease here, so that no two instances work the same rows at once. The holder (BrokerInstance's id) renews
-- its lease on every tick; when it dies the lease runs out (lease_until) and another instance takes it over on its
-- next tick; a clean stop gives it back at once (lifecycle.PeriodicSweep, docs/database.md).
CREATE TABLE sweep_leases (
    name         VARCHAR(64)              PRIMARY KEY,
    holder       VARCHAR(100)             NOT NULL,
    lease_until  TIMESTAMP WITH TIME ZONE NOT NULL
);
