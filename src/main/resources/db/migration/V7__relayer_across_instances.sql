-- Several broker instances share one relayer account through this database (docs/payments.md, "The relayer").

-- Nonces handed out and then refused by the node while a higher nonce was already handed out (by this instance or
-- another): the counter cannot go back over them, so they wait here for the next submission of any instance, or for
-- the tracker's no-op filler, and the chain never sees a gap. Only written while the relayer_nonces row is locked.
CREATE TABLE relayer_free_nonces (
    address   VARCHAR(42)              NOT NULL,
    nonce     BIGINT                   NOT NULL CHECK (nonce >= 0),
    freed_at  TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (address, nonce)
);

-- The instance that saw a transaction's receipt first holds this lease while it runs the outcome listener, so that
-- exactly one instance records the outcome; after a crash the lease runs out and another instance takes it over.
ALTER TABLE chain_transactions ADD COLUMN outcome_lease_until TIMESTAMP WITH TIME ZONE;

-- One fee-bumped replacement per stuck transaction, whichever instance's tracker noticed it first. NULLs (every
-- transaction that replaces nothing) do not collide, on H2 as on PostgreSQL.
CREATE UNIQUE INDEX chain_transactions_one_replacement ON chain_transactions (replaces_tx_hash);
