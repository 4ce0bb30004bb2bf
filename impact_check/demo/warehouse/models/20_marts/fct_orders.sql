-- Order facts: one row per order with items and payments rolled up (a CTE chain).
CREATE TABLE marts.fct_orders AS
WITH items AS (
  SELECT order_id, SUM(quantity) AS item_count, SUM(line_total) AS items_total
  FROM staging.stg_order_items
  GROUP BY order_id
),
paid AS (
  SELECT order_id, SUM(amount) AS paid_amount
  FROM staging.stg_payments
  GROUP BY order_id
),
joined AS (
  SELECT o.order_id, o.customer_id, o.order_date, o.gross_amount, o.net_amount,
         i.item_count, i.items_total, p.paid_amount
  FROM staging.stg_orders AS o
  LEFT JOIN items AS i ON i.order_id = o.order_id
  LEFT JOIN paid AS p ON p.order_id = o.order_id
)
SELECT *, net_amount - COALESCE(paid_amount, 0) AS outstanding_amount
FROM joined;
