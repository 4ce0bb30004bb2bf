-- Attribution moves to the marketing platform: signup_channel is no longer replicated.
ALTER TABLE raw.customers DROP COLUMN signup_channel;

-- Align with the catalogue service naming.
ALTER TABLE raw.products RENAME COLUMN category TO category_name;

-- New: the currency of the order (nullable, no consumer yet).
ALTER TABLE raw.orders ADD COLUMN currency CHAR(3);
