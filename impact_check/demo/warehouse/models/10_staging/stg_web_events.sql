-- Staging: web events of known customers only.
CREATE VIEW staging.stg_web_events AS
SELECT e.event_id, e.customer_id, e.event_type, e.page, e.occurred_at
FROM raw.web_events AS e
WHERE e.customer_id IS NOT NULL;
