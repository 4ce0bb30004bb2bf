-- ML feature table for the churn model: recency, frequency, monetary (orders), payments, engagement.
CREATE TABLE ml.customer_features AS
SELECT
  c.customer_id,
  s.signup_channel,
  DATE '2026-11-30' - co.last_order_date AS recency_days,
  co.order_count AS frequency,
  co.lifetime_value AS monetary,
  co.last_order_date,
  COALESCE(pay.paid_total, 0) AS paid_total,
  (SELECT COUNT(*) FROM staging.stg_web_events AS e
    WHERE e.customer_id = c.customer_id) AS web_events
FROM marts.dim_customers AS c
JOIN staging.stg_customers AS s ON s.id = c.customer_id
JOIN marts.customer_orders AS co ON co.customer_id = c.customer_id
LEFT JOIN (
  SELECT customer_id, SUM(paid_amount) AS paid_total
  FROM marts.fct_orders
  GROUP BY customer_id
) AS pay ON pay.customer_id = c.customer_id;
