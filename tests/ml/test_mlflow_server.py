"""The MLflow source against a real ``mlflow server`` (sqlite backend, 127.0.0.1).

Models are logged through the real MLflow client (log_models.py, run in the MLflow venv);
the checker reads them over HTTP, and an end-to-end check on a warehouse repository fails
when a column the model was trained on is dropped, warns when its type widens.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from gitrepo import GitRepo
from mlflow_server import Server, mlflow_server

from impact_check.config import LineageSource
from impact_check.sources import fetch_one
from impact_check.sources.base import GraphFragment, SourceContext

pytestmark = pytest.mark.slow

TABLE = "analytics.customer_features"
WAREHOUSE = {
    "db/V1__features.sql": (
        "CREATE SCHEMA analytics;\n"
        f"CREATE TABLE {TABLE} (customer_id BIGINT, lifetime_value DOUBLE,\n"
        "    number_of_orders BIGINT, segment VARCHAR, updated_at TIMESTAMP);\n"
    ),
    # the same table feeds a Feast feature view (read statically, never imported)
    "feature_repo/features.py": """\
from datetime import timedelta

from feast import Entity, FeatureService, FeatureView, Field
from feast.infra.offline_stores.contrib.postgres_offline_store.postgres_source import (
    PostgreSQLSource,
)
from feast.types import Float64, Int64

customer = Entity(name="customer", join_keys=["customer_id"])
source = PostgreSQLSource(
    name="customer_features", table="analytics.customer_features", timestamp_field="updated_at"
)
customer_stats = FeatureView(
    name="customer_stats",
    entities=[customer],
    ttl=timedelta(days=1),
    source=source,
    schema=[
        Field(name="lifetime_value", dtype=Float64),
        Field(name="number_of_orders", dtype=Int64),
    ],
    owner="growth@example.com",
)
churn_service = FeatureService(name="churn_service", features=[customer_stats])
""",
}


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with mlflow_server(tmp_path_factory.mktemp("mlflow")) as running:
        running.log("churn", "tensor", "nodata", "elsewhere")
        yield running


@pytest.fixture(scope="session")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A basic-auth server with one registered version, created over its REST API (as admin):
    a run without dataset inputs, so reading it touches every endpoint the source uses."""
    with mlflow_server(tmp_path_factory.mktemp("mlflow-auth"), basic_auth=True) as running:
        auth = ("admin", running.env["MLFLOW_TRACKING_PASSWORD"])
        api = f"{running.url}/api/2.0/mlflow"
        with httpx.Client(auth=auth, timeout=30) as client:
            experiment = client.post(f"{api}/experiments/create", json={"name": "auth"})
            run = client.post(
                f"{api}/runs/create",
                json={"experiment_id": experiment.json()["experiment_id"], "start_time": 0},
            ).json()["run"]["info"]["run_id"]
            client.post(f"{api}/registered-models/create", json={"name": "auth_model"})
            created = client.post(
                f"{api}/model-versions/create",
                json={"name": "auth_model", "source": f"runs:/{run}/model", "run_id": run},
            )
            assert created.status_code == 200, created.text
        yield running


def _fetch(url: str, tmp_path: Path, **spec: object) -> GraphFragment:
    source = LineageSource(kind="mlflow", location=url, **spec)  # type: ignore[arg-type]
    ctx = SourceContext(root=tmp_path, known={TABLE}, cache_dir=tmp_path / "cache", timeout=10)
    return fetch_one(source, ctx)


def test_registered_version_with_signature_and_dataset_becomes_a_typed_consumer(
    server: Server, tmp_path: Path
) -> None:
    fragment = _fetch(server.url, tmp_path)
    nodes = {n.id: n for n in fragment.nodes}
    churn = nodes["mlflow:churn_model/1"]
    assert churn.kind == "ml_model" and churn.origin == "mlflow"
    assert churn.name == "churn_model/1 (alias champion)"
    assert churn.owners == ["ml-team"]
    assert churn.attrs["aliases"] == ["champion"] and churn.attrs["version"] == "1"
    assert churn.attrs["run_id"] == server.logged["churn_model"]["run_id"]
    assert churn.url == f"{server.url}/#/models/churn_model/versions/1"
    # signature columns the Delta table has are read and typed; the one-hot inputs are not
    # warehouse columns; the other logged columns may feed preprocessing
    assert churn.expects == {
        f"{TABLE}#lifetime_value": "double",
        f"{TABLE}#number_of_orders": "long",
    }
    assert sorted(churn.attrs["unmapped_inputs"]) == ["segment_a", "segment_b"]
    edges = {(e.src, e.kind) for e in fragment.edges if e.dst == churn.id}
    assert edges == {
        (f"{TABLE}#lifetime_value", "column"),
        (f"{TABLE}#number_of_orders", "column"),
        (f"{TABLE}#customer_id", "exposure"),
        (f"{TABLE}#segment", "exposure"),
    }
    # a tensor signature on a dataset logged without a schema: table level, not a crash
    tensor = nodes["mlflow:tensor_model/1"]
    assert tensor.name == "tensor_model/1 (unknown schema)" and not tensor.expects
    assert {(e.src, e.kind) for e in fragment.edges if e.dst == tensor.id} == {(TABLE, "reads")}
    # a run without dataset inputs cannot be linked: partial, naming the model version
    assert "mlflow:nodata_model/1" not in nodes and "mlflow:events_model/1" not in nodes
    assert fragment.status == "partial"
    assert (
        "nodata_model/1: run" in fragment.detail and "logged no training dataset" in fragment.detail
    )
    assert fragment.counts["model versions not trained on a repository dataset"] == 1
    assert fragment.counts["training datasets without a schema"] == 1
    assert fragment.counts["tensor signatures (read at table level)"] == 1


def test_basic_auth_server_needs_the_credentials_from_the_environment(
    auth_server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    password = auth_server.env["MLFLOW_TRACKING_PASSWORD"]
    monkeypatch.setenv("MLFLOW_USER", "admin")
    monkeypatch.setenv("MLFLOW_PASSWORD", "wrong-" + password)
    spec = {"username_env": "MLFLOW_USER", "password_env": "MLFLOW_PASSWORD"}
    refused = _fetch(auth_server.url, tmp_path, **spec, options={"retries": 0})
    assert refused.status == "failed" and "HTTP 401" in refused.detail
    assert "registered-models/search" in refused.detail and password not in refused.detail
    anonymous = _fetch(auth_server.url, tmp_path / "anon", options={"retries": 0})
    assert anonymous.status == "failed" and "HTTP 401" in anonymous.detail
    monkeypatch.setenv("MLFLOW_PASSWORD", password)
    fragment = _fetch(auth_server.url, tmp_path / "ok", **spec)
    # read with the credentials: the version is found, its run has no dataset
    assert fragment.status == "partial", fragment.detail
    assert (
        "auth_model/1: run" in fragment.detail and "logged no training dataset" in fragment.detail
    )


def _repo(tmp_path: Path, url: str) -> GitRepo:
    repo = GitRepo(tmp_path / "warehouse")
    config = {
        "lineage": [
            {"kind": "mlflow", "location": url, "name": "mlflow"},
            {"kind": "feast", "location": "feature_repo", "name": "feast"},
        ]
    }
    repo.commit({**WAREHOUSE, ".impact-check.yml": yaml.safe_dump(config)}, "base")
    repo.git("checkout", "-q", "-b", "feature")
    return repo


def _check(repo: GitRepo, migration: str) -> tuple[int, dict[str, object], str]:
    repo.git("checkout", "-q", "-B", "feature", "main")
    repo.commit({"db/V2__change.sql": migration}, "change")
    code, report = repo.report("--base", "main", "--head", "feature")
    _, text, _ = repo.run("check", "--base", "main", "--head", "feature")
    return code, report, text


def _rules(report: dict[str, object]) -> dict[str, list[dict[str, object]]]:
    out: dict[str, list[dict[str, object]]] = {}
    for finding in report["findings"]:  # type: ignore[attr-defined]
        out.setdefault(finding["rule"], []).append(finding)
    return out


def test_end_to_end_dropping_the_training_column_fails_naming_feature_service_and_model(
    server: Server, tmp_path: Path
) -> None:
    repo = _repo(tmp_path, server.url)
    code, report, text = _check(repo, f"ALTER TABLE {TABLE} DROP COLUMN lifetime_value;")
    (tmp_path / "report.txt").write_text(text)
    _, markdown, _ = repo.run(
        "check", "--base", "main", "--head", "feature", "--format", "markdown"
    )
    (tmp_path / "report.md").write_text(markdown)
    assert code == 1
    rules = _rules(report)
    (ml701,) = rules["ML701"]
    assert ml701["severity"] == "error"
    for name in (
        "feature customer_stats:lifetime_value (view customer_stats)",
        "feature view customer_stats",
        "feature service churn_service",
        "model version churn_model/1 (alias champion)",
    ):
        assert name in ml701["message"], ml701["message"]
    broken = {i["node"]["id"]: i for i in ml701["impacted"] if i["breaks"]}
    assert set(broken) == {
        "feast:feature/customer_stats.lifetime_value",
        "feast:feature_view/customer_stats",
        "feast:feature_service/churn_service",
        "mlflow:churn_model/1",
    }
    model = broken["mlflow:churn_model/1"]
    assert model["node"]["owners"] == ["ml-team"] and model["node"]["origin"] == "mlflow"
    assert model["path"] == [f"{TABLE}#lifetime_value", "mlflow:churn_model/1"]
    assert model["details"]["aliases"] == ["champion"]
    # the tensor model reads the table at table level: possibly affected, not broken
    (co201,) = rules["CO201"]
    tensor = [i for i in co201["impacted"] if i["node"]["id"] == "mlflow:tensor_model/1"]
    assert tensor and not tensor[0]["breaks"] and tensor[0]["certainty"] == "possible"
    # the unlinked model is reported, not silently passed
    assert any("nodata_model/1" in f["message"] for f in rules["AN905"])
    assert "ML features and models at risk (6):" in text
    assert (
        "BREAKS churn_model/1 (alias champion) [ml_model mlflow:churn_model/1] owners: ml-team"
    ) in text


def test_end_to_end_widening_warns_and_an_incompatible_type_breaks(
    server: Server, tmp_path: Path
) -> None:
    repo = _repo(tmp_path, server.url)
    widen = f"ALTER TABLE {TABLE} ALTER COLUMN number_of_orders TYPE HUGEINT;"
    code, report, _ = _check(repo, widen)
    (ml702,) = _rules(report)["ML702"]
    assert code == 0 and ml702["severity"] == "warning"
    assert "churn_model/1 (alias champion) declares" in ml702["message"]
    assert "as long (MLflow signature; now INT128: widened)" in ml702["message"]
    assert "as Int64 (Feast dtype; now INT128: widened)" in ml702["message"]
    findings = report["findings"]
    assert not any(i["breaks"] for f in findings for i in f["impacted"])  # type: ignore[attr-defined]

    retype = f"ALTER TABLE {TABLE} ALTER COLUMN number_of_orders TYPE VARCHAR;"
    code, report, _ = _check(repo, retype)
    rules = _rules(report)
    (ml702,) = rules["ML702"]
    assert code == 1 and ml702["severity"] == "error"
    impacts = {i["node"]["id"]: i for i in ml702["impacted"]}
    assert set(impacts) == {
        "mlflow:churn_model/1",
        "feast:feature/customer_stats.number_of_orders",
        "feast:feature_view/customer_stats",
        "feast:feature_service/churn_service",
    }
    assert all(i["breaks"] for i in impacts.values())
    assert "schema enforcement rejects it" in impacts["mlflow:churn_model/1"]["reason"]
    assert "ML701" not in rules  # the break is the type mismatch, reported once as ML702
