from datetime import timedelta

from feast import Entity, FeatureView, Field, ValueType
from feast.infra.offline_stores.contrib.postgres_offline_store.postgres_source import (
    PostgreSQLSource,
)
from feast.types import Float64, Int64

pg_customer = Entity(name="pg_customer", join_keys=["customer_id"], value_type=ValueType.INT64)
orders_source = PostgreSQLSource(
    name="orders_pg_source",
    query="SELECT customer_id, amount, order_date FROM analytics.orders",
    timestamp_field="order_date",
)
customers_table_source = PostgreSQLSource(
    name="customers_pg_table",
    table="analytics.customers",
    timestamp_field="most_recent_order",
)
orders_fv = FeatureView(
    name="order_amounts",
    entities=[pg_customer],
    ttl=timedelta(days=30),
    schema=[Field(name="customer_id", dtype=Int64), Field(name="amount", dtype=Float64)],
    online=False,
    source=orders_source,
)
customers_pg_fv = FeatureView(
    name="customers_pg",
    entities=[pg_customer],
    ttl=timedelta(days=30),
    schema=[
        Field(name="customer_id", dtype=Int64),
        Field(name="customer_lifetime_value", dtype=Float64),
    ],
    online=False,
    source=customers_table_source,
)
