-- Failover: after a provider's fault a job may move to another offer. Where it runs now is on the job (provider,
-- attempt, price) and on its reservation (provider, offer, hold), changed together in one transaction.
ALTER TABLE jobs ADD COLUMN attempt INT NOT NULL DEFAULT 1;
ALTER TABLE jobs ADD COLUMN price_micros_per_gpu_hour BIGINT;
-- Environment values are never stored; whether there were any decides whether a restarted broker may relaunch.
ALTER TABLE jobs ADD COLUMN has_environment BOOLEAN NOT NULL DEFAULT FALSE;
-- Providers that failed this job (comma-separated): a failover never goes back to one of them.
ALTER TABLE jobs ADD COLUMN faulted_providers VARCHAR(1000) NOT NULL DEFAULT '';
-- A cancel that arrives while the job is between two providers is honoured by whoever launches next.
ALTER TABLE jobs ADD COLUMN cancel_requested BOOLEAN NOT NULL DEFAULT FALSE;
-- The capacity hold the reservation holds now (NULL: named by the reservation id, as before any failover).
ALTER TABLE reservations ADD COLUMN hold_id VARCHAR(64);
