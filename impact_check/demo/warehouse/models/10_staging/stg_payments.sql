-- Staging: payments, refunds as negative amounts.
CREATE VIEW staging.stg_payments AS
SELECT
  p.id AS payment_id,
  p.order_id,
  p.method,
  CASE WHEN p.refunded THEN -p.amount ELSE p.amount END AS amount,
  p.paid_at
FROM raw.payments AS p;
