-- The durable job engine (docs/jobs.md, "The job engine"): each open job carries its next step and when it is due,
-- and the instance working on it holds a lease. Any instance claims due jobs whose lease is free or has run out
-- (SELECT ... FOR UPDATE SKIP LOCKED), so a job whose instance died is taken up by another when its lease ends.

-- launch: ask the provider to start the current attempt (idempotent at the provider, by the attempt's name);
-- follow: ask the provider where the job stands, and act on what it says (running, ended, lost).
ALTER TABLE jobs ADD COLUMN step VARCHAR(12) NOT NULL DEFAULT 'launch';
ALTER TABLE jobs ADD COLUMN step_due_at TIMESTAMP WITH TIME ZONE;
ALTER TABLE jobs ADD COLUMN lease_holder VARCHAR(100);
ALTER TABLE jobs ADD COLUMN lease_until TIMESTAMP WITH TIME ZONE;

-- Jobs open when this version starts: a running one is followed, one still launching is launched again.
UPDATE jobs SET step = CASE WHEN state = 'RUNNING' THEN 'follow' ELSE 'launch' END, step_due_at = updated_at
    WHERE state IN ('LAUNCHING', 'RUNNING');

CREATE INDEX jobs_due ON jobs (state, step_due_at);
