-- Staging: customers as delivered (a SELECT * pass-through; downstream names its columns).
CREATE VIEW staging.stg_customers AS
SELECT * FROM raw.customers;
