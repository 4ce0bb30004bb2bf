-- Discounts arrived with the 2026 pricing project.
ALTER TABLE raw.orders ADD COLUMN discount_amount DECIMAL(10, 2) DEFAULT 0;
