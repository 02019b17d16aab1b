-- Identical reads (same agent, tool, arguments and outcome) queued for the same group commit are one line with their
-- count (docs/policy.md, "The audit log"): an agent polling job_status thousands of times a second wrote as many rows.
-- recorded_at is the first of them; every line written before this migration, and every change, counts once.
ALTER TABLE audit_log ADD COLUMN calls INTEGER DEFAULT 1 NOT NULL;
