-- Raw layer: tables loaded by the ingestion jobs (Fivetran-style replicas of the shop DB).
CREATE SCHEMA raw;

CREATE TABLE raw.customers (
  id INTEGER PRIMARY KEY,
  email VARCHAR(255) NOT NULL UNIQUE,
  first_name VARCHAR(100),
  last_name VARCHAR(100),
  country_code CHAR(2),
  signup_channel VARCHAR(50),
  created_at TIMESTAMP NOT NULL
);

CREATE TABLE raw.products (
  id INTEGER PRIMARY KEY,
  sku VARCHAR(64) NOT NULL,
  name VARCHAR(255) NOT NULL,
  category VARCHAR(100),
  list_price DECIMAL(10, 2) NOT NULL
);

CREATE TABLE raw.orders (
  id INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL,
  status VARCHAR(20) NOT NULL DEFAULT 'placed',
  amount DECIMAL(12, 2) NOT NULL,
  ordered_at TIMESTAMP NOT NULL
);

CREATE TABLE raw.order_items (
  order_id INTEGER NOT NULL,
  line_no INTEGER NOT NULL,
  product_id INTEGER NOT NULL,
  quantity INTEGER NOT NULL,
  unit_price DECIMAL(10, 2) NOT NULL,
  PRIMARY KEY (order_id, line_no)
);

CREATE TABLE raw.payments (
  id INTEGER PRIMARY KEY,
  order_id INTEGER NOT NULL,
  method VARCHAR(20) NOT NULL,
  amount DECIMAL(12, 2) NOT NULL,
  paid_at TIMESTAMP
);

CREATE TABLE raw.web_events (
  event_id BIGINT PRIMARY KEY,
  customer_id INTEGER,
  event_type VARCHAR(50) NOT NULL,
  page VARCHAR(255),
  occurred_at TIMESTAMP NOT NULL
);
