-- Customer dimension: reads named columns through the stg_customers SELECT * view.
CREATE VIEW marts.dim_customers AS
SELECT
  c.id AS customer_id,
  c.email,
  c.first_name || ' ' || c.last_name AS full_name,
  c.country_code,
  CAST(c.created_at AS DATE) AS signup_date
FROM staging.stg_customers AS c;
