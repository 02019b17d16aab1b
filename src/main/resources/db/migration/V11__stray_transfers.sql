-- Stock x402 transfers (docs/payments.md, "The front-run"): a payment made with a TransferWithAuthorization keeps the
-- depositTransfer call it was sent with. When that payment fails, the signed transfer can still be submitted straight
-- to the token by whoever saw it, until its validBefore; the broker watches for such a stray copy and sends its money
-- back to the payer (GpuEscrow.returnTransfer). stray_watch_closed_at: when that watch ended (money returned, or the
-- authorization expired unused, or it was used elsewhere).
ALTER TABLE payments ADD COLUMN transfer_call VARCHAR(1000);
ALTER TABLE payments ADD COLUMN stray_watch_closed_at TIMESTAMP WITH TIME ZONE;
