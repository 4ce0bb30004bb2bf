-- Product-category affinity per customer, for the recommender.
CREATE VIEW ml.product_affinity AS
SELECT o.customer_id, l.category, SUM(l.quantity) AS units
FROM marts.fct_order_lines AS l
JOIN staging.stg_orders AS o ON o.order_id = l.order_id
GROUP BY o.customer_id, l.category
HAVING SUM(l.quantity) > 0;
