-- When the broker last saw the current attempt running, asked of its provider (docs/jobs.md, "What is billed"):
-- an end a provider or a job reports from before it is not believed, so a job cannot shorten its own bill by
-- printing an early end or going quiet. NULL until the attempt is first seen running.
ALTER TABLE jobs ADD COLUMN seen_running_at TIMESTAMP WITH TIME ZONE;
