-- Executive dashboard: customers and value per country.
CREATE VIEW reporting.country_summary AS
SELECT country_code, COUNT(*) AS customers, SUM(lifetime_value) AS value
FROM marts.customer_orders
GROUP BY country_code;
