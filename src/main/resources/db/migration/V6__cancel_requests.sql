-- A cancel is recorded before it acts, so that whatever races it (a run claiming the reservation, a deposit being
-- confirmed, a payment failing) sees it: a reservation asked to be cancelled never starts a job or takes a payment,
-- and a deposit that confirms after the cancel is refunded.
ALTER TABLE reservations ADD COLUMN cancel_requested BOOLEAN NOT NULL DEFAULT FALSE;
