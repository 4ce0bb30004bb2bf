"""Logs the test models into a real MLflow tracking server (run in the MLflow venv).

Usage: python log_models.py TRACKING_URI SCENARIO...   (prints one JSON line per model)

Scenarios (the shapes users log, as in shared/fixtures/mlflow/log_model.py):
- churn: sklearn model on analytics.customer_features (a Delta table source with a schema),
  signature inferred from the one-hot frame; registered as churn_model, alias champion,
  tag owner=ml-team;
- tensor: pyfunc model with a TensorSpec signature, trained on a Spark table source logged
  without a schema (tensor_model);
- nodata: a registered model whose run logged no dataset (nodata_model);
- elsewhere: a model trained on a table the repository does not define (events_model).
"""

from __future__ import annotations

import json
import sys

import mlflow
import numpy as np
import pandas as pd
from mlflow.data.delta_dataset_source import DeltaDatasetSource
from mlflow.data.meta_dataset import MetaDataset
from mlflow.data.spark_dataset_source import SparkDatasetSource
from mlflow.models import infer_signature
from mlflow.models.signature import ModelSignature
from mlflow.tracking import MlflowClient
from mlflow.types.schema import ColSpec, Schema, TensorSpec


class Constant(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
        return np.zeros(len(model_input))


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": np.arange(1, 21, dtype="int64"),
            "lifetime_value": np.linspace(10.0, 200.0, 20),
            "number_of_orders": np.array([i % 7 for i in range(20)], dtype="int64"),
            "segment": ["a", "b"] * 10,
        }
    )


def churn() -> dict[str, object]:
    from sklearn.linear_model import LogisticRegression

    df = frame()
    y = (df["lifetime_value"] > 100).astype(int)
    x = pd.get_dummies(df[["lifetime_value", "number_of_orders", "segment"]], columns=["segment"])
    x = x.astype({"segment_a": "int64", "segment_b": "int64"})
    with mlflow.start_run(run_name="train-churn") as run:
        source = DeltaDatasetSource(delta_table_name="analytics.customer_features")
        dataset = mlflow.data.from_pandas(df, source=source, name="customer_features")
        mlflow.log_input(dataset, context="training")
        model = LogisticRegression().fit(x, y)
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            signature=infer_signature(x, model.predict(x)),
            pip_requirements=["scikit-learn"],
            registered_model_name="churn_model",
        )
    client = MlflowClient()
    version = str(info.registered_model_version)
    client.set_registered_model_alias("churn_model", "champion", version)
    client.set_registered_model_tag("churn_model", "owner", "ml-team")
    return {"model": "churn_model", "version": version, "run_id": run.info.run_id}


def pyfunc(name: str, signature: ModelSignature, dataset: MetaDataset | None) -> dict[str, object]:
    with mlflow.start_run(run_name=f"train-{name}") as run:
        if dataset is not None:
            mlflow.log_input(dataset, context="training")
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=Constant(),
            signature=signature,
            pip_requirements=[],
            registered_model_name=name,
        )
    return {"model": name, "version": str(info.registered_model_version), "run_id": run.info.run_id}


def tensor() -> dict[str, object]:
    signature = ModelSignature(
        inputs=Schema([TensorSpec(np.dtype("float32"), (-1, 3), name="features")]),
        outputs=Schema([ColSpec("double", "score")]),
    )
    source = SparkDatasetSource(table_name="analytics.customer_features")
    return pyfunc("tensor_model", signature, MetaDataset(source=source, name="features_table"))


def nodata() -> dict[str, object]:
    signature = ModelSignature(inputs=Schema([ColSpec("double", "lifetime_value")]))
    return pyfunc("nodata_model", signature, None)


def elsewhere() -> dict[str, object]:
    signature = ModelSignature(inputs=Schema([ColSpec("long", "clicks")]))
    schema = Schema([ColSpec("long", "clicks")])
    source = SparkDatasetSource(table_name="other.events")
    return pyfunc("events_model", signature, MetaDataset(source=source, name="ev", schema=schema))


def main() -> None:
    mlflow.set_tracking_uri(sys.argv[1])
    mlflow.set_experiment("churn")
    scenarios = {"churn": churn, "tensor": tensor, "nodata": nodata, "elsewhere": elsewhere}
    for name in sys.argv[2:]:
        print(json.dumps(scenarios[name]()), flush=True)


if __name__ == "__main__":
    main()
