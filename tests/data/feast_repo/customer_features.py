from datetime import timedelta

from feast import Entity, FeatureService, FeatureView, Field, FileSource, ValueType
from feast.types import Float64, Int64, String

customer = Entity(
    name="customer",
    join_keys=["customer_id"],
    value_type=ValueType.INT64,
    description="jaffle_shop customer",
)

# Offline source = the dbt model output table, exported as parquet. field_mapping renames
# source column -> feature name (customer_lifetime_value feeds feature lifetime_value).
customer_source = FileSource(
    name="customer_features_source",
    path="data/customer_features.parquet",
    timestamp_field="most_recent_order",
    field_mapping={"customer_lifetime_value": "lifetime_value"},
    description="export of dbt model analytics.customers",
    tags={"dbt_model": "model.jaffle_shop.customers"},
)

customer_fv = FeatureView(
    name="customer_features",
    entities=[customer],
    ttl=timedelta(days=365),
    schema=[
        Field(name="customer_id", dtype=Int64),
        Field(
            name="lifetime_value",
            dtype=Float64,
            description="from customers.customer_lifetime_value",
        ),
        Field(name="number_of_orders", dtype=Int64),
        Field(name="first_name", dtype=String),
    ],
    online=False,
    source=customer_source,
    tags={"owner": "ml-platform"},
)

churn_service = FeatureService(
    name="churn_model_v1",
    features=[customer_fv[["lifetime_value", "number_of_orders"]]],
    tags={"mlflow_registered_model": "churn_model"},
)
