"""DAGs for a real Airflow 3 (tests/test_source_airflow.py, tests/data/airflow/README.md).

Read only by Airflow's dag processor, never by impact-check. Three tasks consume the asset
of ``analytics.orders``: one with SQL reading ``amount``, one with SQL that does not read
it, and a DAG scheduled on the asset; ``featurize`` produces a second asset whose consumer
is two hops from the orders table.
"""

from __future__ import annotations

import pendulum
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.sdk import DAG, Asset

START = pendulum.datetime(2026, 1, 1, tz="UTC")
ORDERS = Asset(uri="postgres://db:5432/shop/analytics/orders", name="analytics.orders")
FEATURES = Asset(
    uri="postgres://db:5432/shop/analytics/customer_features", name="analytics.customer_features"
)

with DAG("build_orders", start_date=START, schedule=None, catchup=False):
    SQLExecuteQueryOperator(
        task_id="load",
        conn_id="warehouse",
        sql="INSERT INTO analytics.orders SELECT * FROM raw.orders",
        outlets=[ORDERS],
    )

with DAG("train_churn", start_date=START, schedule=[ORDERS], catchup=False):
    SQLExecuteQueryOperator(
        task_id="featurize",
        conn_id="warehouse",
        sql=(
            "INSERT INTO analytics.customer_features "
            "SELECT customer_id, SUM(amount) AS spend FROM analytics.orders "
            "WHERE ordered_at >= '{{ ds }}' GROUP BY customer_id"
        ),
        inlets=[ORDERS],
        outlets=[FEATURES],
    )

with DAG("order_counts", start_date=START, schedule=None, catchup=False):
    SQLExecuteQueryOperator(
        task_id="count_orders",
        conn_id="warehouse",
        sql="SELECT customer_id, COUNT(*) AS n FROM analytics.orders GROUP BY customer_id",
        inlets=[ORDERS],
    )

with DAG("score_customers", start_date=START, schedule=[FEATURES], catchup=False):
    SQLExecuteQueryOperator(
        task_id="score",
        conn_id="warehouse",
        sql="SELECT customer_id, spend * 2 AS score FROM analytics.customer_features",
        inlets=[FEATURES],
    )
