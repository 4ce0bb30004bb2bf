-- Order lines joined to products with USING.
CREATE VIEW marts.fct_order_lines AS
SELECT i.order_id, i.line_no, product_id, p.category, i.quantity, i.line_total
FROM staging.stg_order_items AS i
JOIN marts.dim_products AS p USING (product_id);
