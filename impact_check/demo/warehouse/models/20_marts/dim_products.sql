-- Product dimension.
CREATE VIEW marts.dim_products AS
SELECT product_id, sku, product_name, COALESCE(category, 'uncategorised') AS category, list_price
FROM staging.stg_products;
