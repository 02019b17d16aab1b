-- Agents authenticate with an API key that is stored only as its SHA-256 hash (keys are 256-bit random values,
-- so a fast hash is enough; the key itself is shown once, at creation).
CREATE TABLE agents (
    agent_id        VARCHAR(40)  PRIMARY KEY,
    name            VARCHAR(100) NOT NULL,
    api_key_hash    CHAR(64)     NOT NULL UNIQUE,
    wallet_address  VARCHAR(42),
    created_at      TIMESTAMP WITH TIME ZONE NOT NULL
);

-- A quote is a binding price for one offer, for one agent, until it expires. It can be reserved once.
CREATE TABLE quotes (
    quote_id                   VARCHAR(40)  PRIMARY KEY,
    agent_id                   VARCHAR(40)  NOT NULL REFERENCES agents (agent_id),
    provider                   VARCHAR(64)  NOT NULL,
    offer_id                   VARCHAR(128) NOT NULL,
    gpu                        VARCHAR(32)  NOT NULL,
    gpu_count                  INT          NOT NULL CHECK (gpu_count > 0),
    vram_gb                    INT          NOT NULL CHECK (vram_gb > 0),
    region                     VARCHAR(64)  NOT NULL,
    price_micros_per_gpu_hour  BIGINT       NOT NULL CHECK (price_micros_per_gpu_hour > 0),
    duration_minutes           INT          NOT NULL CHECK (duration_minutes > 0),
    total_micros               BIGINT       NOT NULL CHECK (total_micros > 0),
    expected_cost_micros       BIGINT       NOT NULL CHECK (expected_cost_micros >= total_micros),
    reliability_basis_points   INT          NOT NULL CHECK (reliability_basis_points BETWEEN 0 AND 10000),
    created_at                 TIMESTAMP WITH TIME ZONE NOT NULL,
    expires_at                 TIMESTAMP WITH TIME ZONE NOT NULL,
    reserved_by                VARCHAR(40)
);
CREATE INDEX quotes_by_expiry ON quotes (expires_at);

-- A reservation holds capacity at a provider for a quoted price until it is paid, or until its hold expires.
-- (agent_id, idempotency_key) is unique: the same key can only ever create one reservation.
CREATE TABLE reservations (
    reservation_id      VARCHAR(40)  PRIMARY KEY,
    agent_id            VARCHAR(40)  NOT NULL REFERENCES agents (agent_id),
    idempotency_key     VARCHAR(128) NOT NULL,
    quote_id            VARCHAR(40)  NOT NULL UNIQUE REFERENCES quotes (quote_id),
    state               VARCHAR(24)  NOT NULL,
    provider            VARCHAR(64)  NOT NULL,
    offer_id            VARCHAR(128) NOT NULL,
    gpu_count           INT          NOT NULL CHECK (gpu_count > 0),
    amount_micros       BIGINT       NOT NULL CHECK (amount_micros > 0),
    created_at          TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at          TIMESTAMP WITH TIME ZONE NOT NULL,
    hold_expires_at     TIMESTAMP WITH TIME ZONE NOT NULL,
    capacity_released   BOOLEAN      NOT NULL DEFAULT FALSE,
    state_reason        VARCHAR(400),
    CONSTRAINT reservations_one_per_key UNIQUE (agent_id, idempotency_key)
);
CREATE INDEX reservations_by_state_expiry ON reservations (state, hold_expires_at);
CREATE INDEX reservations_by_agent ON reservations (agent_id, created_at);

-- Capacity of the demo marketplace (a simulated market for demos and tests). Holding units is a conditional update
-- of held_units, so concurrent holds can never oversell an offer.
CREATE TABLE demo_capacity (
    provider     VARCHAR(64)  NOT NULL,
    offer_id     VARCHAR(128) NOT NULL,
    total_units  INT          NOT NULL CHECK (total_units >= 0),
    held_units   INT          NOT NULL CHECK (held_units >= 0),
    PRIMARY KEY (provider, offer_id)
);

CREATE TABLE demo_holds (
    hold_id      VARCHAR(64)  PRIMARY KEY,
    provider     VARCHAR(64)  NOT NULL,
    offer_id     VARCHAR(128) NOT NULL,
    units        INT          NOT NULL CHECK (units > 0),
    released     BOOLEAN      NOT NULL DEFAULT FALSE,
    created_at   TIMESTAMP WITH TIME ZONE NOT NULL
);
