-- Schemas of the derived layers (V10 runs after V3: migrations apply in natural order).
CREATE SCHEMA staging;
CREATE SCHEMA marts;
CREATE SCHEMA ml;
CREATE SCHEMA reporting;
