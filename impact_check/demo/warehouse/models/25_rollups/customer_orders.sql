-- Lifetime order stats per customer, ranked by value within their country (window).
CREATE VIEW marts.customer_orders AS
SELECT
  c.customer_id,
  c.country_code,
  COUNT(o.order_id) AS order_count,
  SUM(o.net_amount) AS lifetime_value,
  MIN(o.order_date) AS first_order_date,
  MAX(o.order_date) AS last_order_date,
  RANK() OVER (PARTITION BY c.country_code ORDER BY SUM(o.net_amount) DESC) AS country_rank
FROM marts.dim_customers AS c
LEFT JOIN marts.fct_orders AS o ON o.customer_id = c.customer_id
GROUP BY c.customer_id, c.country_code;
