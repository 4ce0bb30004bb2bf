-- Marketing dashboard: revenue by signup channel.
CREATE VIEW reporting.channel_performance AS
SELECT s.signup_channel, COUNT(DISTINCT s.id) AS customers, SUM(co.lifetime_value) AS revenue
FROM staging.stg_customers AS s
JOIN marts.customer_orders AS co ON co.customer_id = s.id
GROUP BY s.signup_channel;
