-- Staging: orders with net amount; cancelled orders excluded.
CREATE VIEW staging.stg_orders AS
SELECT
  o.id AS order_id,
  o.customer_id,
  o.status,
  o.amount AS gross_amount,
  o.amount - COALESCE(o.discount_amount, 0) AS net_amount,
  CAST(o.ordered_at AS DATE) AS order_date
FROM raw.orders AS o
WHERE o.status <> 'cancelled';
