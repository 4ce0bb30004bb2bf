-- Refunds are recorded on the payment that they reverse.
ALTER TABLE raw.payments ADD COLUMN refunded BOOLEAN DEFAULT false;
