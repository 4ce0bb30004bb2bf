# Constants shared by the feature definitions (imported statically by the checker).
ORDERS_TABLE = "analytics.orders"
SCHEMA = "analytics"
