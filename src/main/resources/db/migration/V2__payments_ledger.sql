-- Custodial agents have a keystore the server holds; external agents registered an address they control.
ALTER TABLE agents ADD COLUMN wallet_custody VARCHAR(12) NOT NULL DEFAULT 'none';

-- The relayer's next nonce, allocated in one place and persisted, so concurrent payments never collide and a
-- restart never reuses a nonce.
CREATE TABLE relayer_nonces (
    address     VARCHAR(42) PRIMARY KEY,
    next_nonce  BIGINT      NOT NULL CHECK (next_nonce >= 0)
);

-- Every transaction the relayer signed, written before it is broadcast: a crash after broadcast still knows the
-- hash and keeps tracking it; it is never sent blindly again.
CREATE TABLE chain_transactions (
    tx_hash             VARCHAR(66)  PRIMARY KEY,
    from_address        VARCHAR(42)  NOT NULL,
    nonce               BIGINT       NOT NULL,
    purpose             VARCHAR(24)  NOT NULL,
    reference_id        VARCHAR(64)  NOT NULL,
    to_address          VARCHAR(42)  NOT NULL,
    call_data           CLOB         NOT NULL,
    gas_limit           BIGINT       NOT NULL,
    max_fee_per_gas     DECIMAL(40, 0) NOT NULL,
    max_priority_fee    DECIMAL(40, 0) NOT NULL,
    signed_raw          CLOB         NOT NULL,
    status              VARCHAR(12)  NOT NULL,
    replaces_tx_hash    VARCHAR(66),
    block_number        BIGINT,
    gas_used            BIGINT,
    failure_reason      VARCHAR(400),
    broadcast_at        TIMESTAMP WITH TIME ZONE,
    created_at          TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at          TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX chain_transactions_open ON chain_transactions (status, created_at);
CREATE INDEX chain_transactions_by_reference ON chain_transactions (reference_id);

-- Payments. A reservation is claimed by one payment at a time (reservations.payment_id); an idempotency key makes
-- one payment, whatever the retries.
CREATE TABLE payments (
    payment_id        VARCHAR(40)  PRIMARY KEY,
    reservation_id    VARCHAR(40)  NOT NULL REFERENCES reservations (reservation_id),
    agent_id          VARCHAR(40)  NOT NULL REFERENCES agents (agent_id),
    idempotency_key   VARCHAR(128) NOT NULL,
    method            VARCHAR(16)  NOT NULL,
    amount_micros     BIGINT       NOT NULL CHECK (amount_micros > 0),
    payer_address     VARCHAR(42)  NOT NULL,
    payee_address     VARCHAR(42)  NOT NULL,
    escrow_deadline   BIGINT       NOT NULL,
    authorization_nonce VARCHAR(66) NOT NULL,
    status            VARCHAR(12)  NOT NULL,
    tx_hash           VARCHAR(66),
    failure_reason    VARCHAR(400),
    created_at        TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at        TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT payments_one_per_key UNIQUE (agent_id, idempotency_key)
);

-- Append-only double-entry ledger. Every movement is an entry of lines whose debits equal its credits, keyed to the
-- chain transaction and log that made it, or carrying the reason it has none.
CREATE TABLE ledger_lines (
    entry_id        VARCHAR(40)  NOT NULL,
    line_number     INT          NOT NULL,
    account         VARCHAR(120) NOT NULL,
    direction       CHAR(1)      NOT NULL CHECK (direction IN ('D', 'C')),
    amount_micros   BIGINT       NOT NULL CHECK (amount_micros > 0),
    reservation_id  VARCHAR(40),
    tx_hash         VARCHAR(66),
    log_index       INT,
    reason          VARCHAR(200) NOT NULL,
    created_at      TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (entry_id, line_number),
    CONSTRAINT ledger_line_has_origin CHECK (tx_hash IS NOT NULL OR reason <> '')
);
CREATE UNIQUE INDEX ledger_one_entry_per_log ON ledger_lines (tx_hash, log_index, line_number);
CREATE INDEX ledger_by_account ON ledger_lines (account, created_at);

-- A reservation's escrow terms are fixed when it is made, so an agent that signs for itself knows them in advance;
-- payment_id claims the reservation for one payment at a time (the timers do not expire a reservation being paid).
ALTER TABLE reservations ADD COLUMN duration_minutes INT NOT NULL DEFAULT 1;
ALTER TABLE reservations ADD COLUMN payment_id VARCHAR(40);
