-- Batched settlement (docs/payments.md, "Batched settlement"): the reservations one settleBatch transaction settles,
-- written before the relayer signs that transaction, so that a crash at any point leaves a record of what the
-- transaction will settle (its relayer purpose is settle_batch, its reference the batch id).

-- used_micros is what the member's Settled event must pay the seller; escrowed_micros what the reservation escrowed
-- when the member was written (the event's two amounts must add up to it). live_reservation_id is the reservation id
-- while the membership may still settle it, and NULL once released (the batch was refused, reverted, or never sent):
-- its unique index keeps a reservation in one live batch at a time. NULLs do not collide, on H2 as on PostgreSQL.
CREATE TABLE settlement_batch_members (
    batch_id             VARCHAR(40)              NOT NULL,
    reservation_id       VARCHAR(40)              NOT NULL REFERENCES reservations (reservation_id),
    used_micros          BIGINT                   NOT NULL CHECK (used_micros >= 0),
    escrowed_micros      BIGINT                   NOT NULL,
    live_reservation_id  VARCHAR(40),
    created_at           TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (batch_id, reservation_id),
    CHECK (used_micros <= escrowed_micros),
    CHECK (live_reservation_id IS NULL OR live_reservation_id = reservation_id)
);

CREATE UNIQUE INDEX settlement_batch_members_live ON settlement_batch_members (live_reservation_id);
CREATE INDEX settlement_batch_members_reservation ON settlement_batch_members (reservation_id);
