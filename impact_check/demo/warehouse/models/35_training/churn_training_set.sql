-- Training set of the churn model: features plus the label.
CREATE VIEW ml.churn_training_set AS
SELECT
  f.customer_id,
  f.recency_days,
  f.frequency,
  f.monetary,
  f.paid_total,
  f.web_events,
  CASE WHEN f.last_order_date < DATE '2026-06-01' THEN 1 ELSE 0 END AS churned
FROM ml.customer_features AS f;
