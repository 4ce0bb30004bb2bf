-- Finance dashboard: daily revenue.
CREATE VIEW reporting.daily_revenue AS
SELECT order_date, COUNT(*) AS orders, SUM(net_amount) AS revenue, SUM(gross_amount) AS gross
FROM marts.fct_orders
GROUP BY order_date;
