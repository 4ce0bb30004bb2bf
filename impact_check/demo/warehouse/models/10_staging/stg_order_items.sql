-- Staging: order lines with their extended price.
CREATE VIEW staging.stg_order_items AS
SELECT
  i.order_id,
  i.line_no,
  i.product_id,
  i.quantity,
  i.quantity * i.unit_price AS line_total
FROM raw.order_items AS i;
