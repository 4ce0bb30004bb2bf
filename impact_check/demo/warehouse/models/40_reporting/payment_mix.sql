-- Finance dashboard: payment methods, card and wallet payments only (UNION ALL of two sources).
CREATE VIEW reporting.payment_mix AS
SELECT method, SUM(amount) AS amount FROM staging.stg_payments WHERE method IN ('card', 'wallet')
GROUP BY method
UNION ALL
SELECT 'all' AS method, SUM(amount) AS amount FROM staging.stg_payments;
