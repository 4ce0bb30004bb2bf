-- Customers with web activity in the last 30 days who also ordered (EXISTS).
CREATE VIEW reporting.active_customers AS
SELECT c.customer_id, c.email, c.country_code
FROM marts.dim_customers AS c
WHERE EXISTS (
  SELECT 1 FROM staging.stg_web_events AS e
  WHERE e.customer_id = c.customer_id
    AND e.occurred_at >= TIMESTAMP '2026-10-01 00:00:00'
);
