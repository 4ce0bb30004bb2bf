from datetime import timedelta

from feast import FeatureService, FeatureView, Field
from feast.infra.offline_stores.contrib.postgres_offline_store.postgres_source import (
    PostgreSQLSource,
)
from feast.types import Array, Float64, Int64, String
from pg_features import pg_customer
from tables import ORDERS_TABLE, SCHEMA

order_source = PostgreSQLSource(
    name="order_table_source",
    table=ORDERS_TABLE,
    timestamp_field="ordered_at",
    created_timestamp_column="loaded_at",
    field_mapping={"amount": "order_amount", "status": "order_status"},
)

stats_source = PostgreSQLSource(
    name="order_stats_query",
    query=f"SELECT o.customer_id, o.amount * 2 AS doubled, c.first_name, o.ordered_at "
    f"FROM {SCHEMA}.orders o JOIN {SCHEMA}.customers c ON c.customer_id = o.customer_id",
    timestamp_field="ordered_at",
)

order_view = FeatureView(
    name="order_features",
    entities=[pg_customer],
    ttl=timedelta(days=7),
    schema=[
        Field(name="customer_id", dtype=Int64),
        Field(name="order_amount", dtype=Float64),
        Field(name="order_status", dtype=String),
        Field(name="tags", dtype=Array(String)),
    ],
    online=False,
    source=order_source,
    owner="growth@example.com",
)

stats_view = FeatureView(
    name="order_stats",
    entities=[pg_customer],
    ttl=timedelta(days=7),
    schema=[Field(name="doubled", dtype=Float64), Field(name="first_name", dtype=String)],
    online=False,
    source=stats_source,
)

scoring = FeatureService(
    name="scoring_v2",
    features=[order_view[["order_amount"]], stats_view],
    owner="ml-platform@example.com",
)
