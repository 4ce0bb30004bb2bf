-- ML feature table for the churn model (recency, frequency, monetary, engagement).
CREATE TABLE ml.customer_features AS
SELECT
  c.customer_id,
  s.signup_channel,
  co.order_count AS frequency,
  co.lifetime_value AS monetary,
  co.last_order_date AS last_order_date,
  (SELECT COUNT(*) FROM staging.stg_web_events AS e
    WHERE e.customer_id = c.customer_id) AS web_events
FROM marts.dim_customers AS c
JOIN staging.stg_customers AS s ON s.id = c.customer_id
JOIN marts.customer_orders AS co ON co.customer_id = c.customer_id;
