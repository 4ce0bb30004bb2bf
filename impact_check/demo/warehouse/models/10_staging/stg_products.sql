-- Staging: products.
CREATE VIEW staging.stg_products AS
SELECT id AS product_id, sku, name AS product_name, category, list_price
FROM raw.products;
