"""Consumers the repository carries are found without configuration (discover.py), read from
the revision being checked, never executed; configuration narrows (off, kinds, exclude) or
adds (a `lineage:` entry replaces the discovery of what it covers)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from gitrepo import GitRepo, broken_nodes

from impact_check.discover import consumer_paths

MIGRATION = (
    "CREATE SCHEMA analytics;\n"
    "CREATE TABLE analytics.orders (customer_id BIGINT, amount DOUBLE, status TEXT, "
    "ordered_at TIMESTAMP);\n"
)
FEATURES = """\
from datetime import timedelta

from feast import Entity, FeatureView, Field
from feast.infra.offline_stores.contrib.postgres_offline_store.postgres_source import (
    PostgreSQLSource,
)
from feast.types import Float64, String

customer = Entity(name="customer", join_keys=["customer_id"])
orders = PostgreSQLSource(name="orders", table="analytics.orders", timestamp_field="ordered_at")
order_view = FeatureView(
    name="order_features", entities=[customer], ttl=timedelta(days=1), source=orders,
    schema=[Field(name="amount", dtype=Float64), Field(name="status", dtype=String)],
    owner="growth@example.com",
)
"""
MLMODEL = """\
metadata:
  registered_model_name: churn_model
  version: 3
  training_dataset: analytics.orders
signature:
  inputs: '[{"type": "double", "name": "amount", "required": true}]'
"""
REPO = {
    "migrations/V1__orders.sql": MIGRATION,
    "ml/features/feature_store.yaml": "project: shop\nprovider: local\nregistry: data/r.db\n",
    "ml/features/orders.py": FEATURES,
    "ml/models/churn/MLmodel": MLMODEL,
    "ml/models/other/MLmodel": 'signature:\n  inputs: \'[{"type": "double", "name": "x"}]\'\n',
}
DROP = {"migrations/V2__drop.sql": "ALTER TABLE analytics.orders DROP COLUMN amount;\n"}
ML_CONSUMERS = {
    "feast:feature/order_features.amount",
    "feast:feature_view/order_features",
    "mlflow:churn_model/3",
}


def _repo(tmp_path: Path, extra: dict[str, Any] | None = None) -> GitRepo:
    repo = GitRepo(tmp_path / "repo")
    repo.commit({**REPO, **(extra or {})}, "base")
    repo.git("checkout", "-q", "-b", "feature")
    return repo


def test_snapshot_paths_are_the_consumer_files_only() -> None:
    paths = [
        "ml/features/feature_store.yaml",
        "ml/features/orders.py",
        "ml/features/sub/more.py",
        "scripts/etl.py",
        "ml/models/churn/MLmodel",
        "README.md",
        "gx/great_expectations.yml",
        "gx/expectations/orders.json",
        "gx/uncommitted/validations/run.json",
        "data/orders.csv.dvc",
        ".dvc/config",
        ".dvc/tmp/lock",
        "pipeline/schema/schema.pbtxt",
        "pipeline/pipeline.py",
        "pipeline/other/unrelated.pbtxt",
        "notes/data.json",
    ]
    assert consumer_paths(paths) == {
        "ml/features/orders.py",
        "ml/features/sub/more.py",
        "ml/models/churn/MLmodel",
        "gx/expectations/orders.json",
        "data/orders.csv.dvc",
        ".dvc/config",
        "pipeline/schema/schema.pbtxt",
        "pipeline/pipeline.py",
    }


def test_feast_repository_and_mlmodel_files_need_no_configuration(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    repo.commit(DROP)
    code, report = repo.report("--base", "main", "--head", "feature")
    assert code == 1
    assert broken_nodes(report) >= ML_CONSUMERS
    (ml701,) = [f for f in report["findings"] if f["rule"] == "ML701"]
    owners = {i["node"]["id"]: i["node"]["owners"] for i in ml701["impacted"]}
    assert owners["feast:feature_view/order_features"] == ["growth@example.com"]
    sources = {s["name"]: s for s in report["sources"]}
    assert sources["feast:ml/features (discovered)"]["status"] == "ok"
    models = sources["mlmodel:**/MLmodel (discovered)"]
    assert models["status"] == "ok" and models["counts"]["MLmodel files"] == 2
    # the model trained on something else is counted, not an error
    assert models["counts"]["MLmodel files naming no training dataset (not linked to a table)"] == 1


def test_consumers_are_read_at_head_so_dropping_a_feature_with_its_column_is_clean(
    tmp_path: Path,
) -> None:
    repo = _repo(tmp_path)
    head_features = FEATURES.replace('Field(name="amount", dtype=Float64), ', "")
    repo.commit({**DROP, "ml/features/orders.py": head_features, "ml/models/churn/MLmodel": None})
    # the work tree says otherwise: the checked revision is what counts
    repo.write({"ml/features/orders.py": FEATURES, "ml/models/churn/MLmodel": MLMODEL})
    code, report = repo.report("--base", "main", "--head", "feature")
    assert code == 0, [f["message"] for f in report["findings"]]
    assert not broken_nodes(report)


def test_discovery_never_imports_the_feature_repository(tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    evil = f"import pathlib\npathlib.Path({str(marker)!r}).write_text('x')\n" + FEATURES
    repo = _repo(tmp_path, {"ml/features/orders.py": evil})
    repo.commit(DROP)
    code, _report = repo.report("--base", "main", "--head", "feature")
    assert code == 1 and not marker.exists()


def test_configuration_turns_discovery_off_keeps_kinds_or_excludes_paths(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    for config, expected in (
        ({"discover": {"enabled": False}}, set()),
        ({"discover": {"kinds": ["mlmodel"]}}, {"mlflow:churn_model/3"}),
        (
            {"discover": {"exclude": ["ml/models/**"]}},
            {"feast:feature/order_features.amount", "feast:feature_view/order_features"},
        ),
        ({"discover": {"exclude": ["ml/features"]}}, {"mlflow:churn_model/3"}),
    ):
        repo.git("checkout", "-q", "main")
        branch = f"b{abs(hash(str(config)))}"
        repo.git("checkout", "-q", "-b", branch)
        repo.commit({**DROP, ".impact-check.yml": yaml.safe_dump(config)})
        _code, report = repo.report("--base", "main", "--head", branch)
        assert broken_nodes(report) & ML_CONSUMERS == expected, config


def test_a_configured_source_replaces_the_discovery_of_what_it_covers(tmp_path: Path) -> None:
    config = {
        "lineage": [
            {"kind": "feast", "location": "ml/features", "name": "features"},
            {
                "kind": "mlmodel",
                "location": "ml/models",
                "options": {"dataset": "analytics.orders"},
            },
        ]
    }
    repo = _repo(tmp_path, {".impact-check.yml": yaml.safe_dump(config)})
    repo.commit(DROP)
    _code, report = repo.report("--base", "main", "--head", "feature")
    names = [s["name"] for s in report["sources"]]
    assert names == ["features", "mlmodel:ml/models"]
    assert broken_nodes(report) >= ML_CONSUMERS


def test_a_broken_feature_file_is_an910_with_file_and_line_and_the_rest_is_read(
    tmp_path: Path,
) -> None:
    repo = _repo(tmp_path)
    repo.commit({**DROP, "ml/features/bad.py": "from feast import Entity\nx = Entity(name='u'\n"})
    code, report = repo.report("--base", "main", "--head", "feature")
    (an910,) = [f for f in report["findings"] if f["rule"] == "AN910"]
    assert an910["location"]["file"] == "ml/features/bad.py" and an910["location"]["line"] == 2
    assert code == 1 and broken_nodes(report) >= ML_CONSUMERS
