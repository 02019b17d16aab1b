-- The migrations in db/migration are written once for H2 and PostgreSQL, and cannot change (every H2 data directory
-- holds their checksums). Three of them name the type CLOB, which PostgreSQL lacks: here it is text under that name,
-- made before any migration runs. Nothing else of theirs needs a PostgreSQL version.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                   WHERE t.typname = 'clob' AND n.nspname = current_schema()) THEN
        CREATE DOMAIN clob AS text;
    END IF;
END
$$;
