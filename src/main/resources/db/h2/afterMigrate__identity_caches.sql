-- H2 only (PostgreSQL would cache per session and hand out ids out of order across connections). An identity column
-- reserves its values 32 at a time by default, and each reservation is a write of the sequence's row and a commit of
-- its own, which on this database writes a chunk to the file: every 32nd audit line cost a second commit, about 60 a
-- second under HotPathBenchmark's load. 4096 at a time makes that rare. A crash loses at most the unused reserved
-- values (a gap in the ids, never a duplicate); a clean stop writes the next value down. Runs after every migration
-- run, and again on every start, where it changes nothing.
ALTER TABLE audit_log ALTER COLUMN audit_id SET CACHE 4096;
ALTER TABLE job_events ALTER COLUMN event_id SET CACHE 4096;
