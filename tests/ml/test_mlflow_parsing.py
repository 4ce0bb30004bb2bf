"""MLflow payloads and MLmodel files without a server: recorded real responses
(tests/data/mlflow, from shared/fixtures/mlflow), bad input, an unreachable server, the
type mapping, and the ML section of the reports."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from impact_check.analysis import compare_catalogs
from impact_check.config import Config, LineageSource
from impact_check.errors import SourceError
from impact_check.model import FileContent, Snapshot
from impact_check.pipeline import analysis_settings
from impact_check.policy import finish
from impact_check.project.loader import load_catalog
from impact_check.report import markdown, text
from impact_check.sources import fetch_one
from impact_check.sources.base import FragmentNode, GraphFragment, SourceContext
from impact_check.sources.mlflow import _relations, _training_sets
from impact_check.sources.mlmodel import fetch as fetch_mlmodel
from impact_check.sources.mlmodel import link, parse_mlmodel
from impact_check.sql.ml_types import declared_sql
from impact_check.sql.types import compare

DATA = Path(__file__).parent.parent / "data" / "mlflow"
SPEC = SimpleNamespace(options={}, namespace=None, aliases={})


def test_column_signature_of_a_recorded_mlmodel() -> None:
    model = parse_mlmodel((DATA / "MLmodel.churn_model.yaml").read_text(), "MLmodel")
    assert model.signature.kind == "columns"
    assert model.signature.columns == {
        "lifetime_value": "double",
        "number_of_orders": "long",
        "segment_a": "long",
        "segment_b": "long",
    }
    assert model.run_id == "b4195c63ea8947a0a027b86162f87a68"


def test_tensor_signature_is_an_unknown_schema_read_at_table_level() -> None:
    model = parse_mlmodel((DATA / "MLmodel.tensor_model.yaml").read_text(), "MLmodel")
    assert model.signature.kind == "tensor"
    linked = link("analytics.customer_features", {"a": "long"}, model.signature)
    assert linked.edges == [("analytics.customer_features", "reads")] and not linked.expects


def test_bad_mlmodel_names_the_file_and_line() -> None:
    with pytest.raises(SourceError, match=r"models/m/MLmodel:3: invalid YAML"):
        parse_mlmodel("signature:\n  inputs: [1\n  x: : :\n", "models/m/MLmodel")
    with pytest.raises(SourceError, match=r"signature\.inputs is not JSON"):
        parse_mlmodel("signature:\n  inputs: '[{'\n", "MLmodel")


def test_recorded_runs_give_tables_schemas_and_skip_eval_datasets() -> None:
    run = json.loads((DATA / "runs-get.json").read_text())["run"]
    (training,) = _training_sets(run, "churn_model/1", SPEC)
    # a local parquet URI: its last two path parts, then the dataset name
    assert training.relations == ["analytics.customer_features", "customer_features"]
    assert training.schema is not None and training.schema["most_recent_order"] == "datetime"
    tables = json.loads((DATA / "runs-get-table-sources.json").read_text())["run"]
    found = _training_sets(tables, "m/1", SPEC)
    assert [t.relations[0] for t in found] == ["analytics.customer_features", "analytics.orders"]
    assert found[1].schema is None  # a dataset with no schema: not a crash
    sql = {"source": json.dumps({"sql": "select a.x from s.a join s.b on a.id = b.id"})}
    assert _relations(sql, "d", SPEC) == ([], ["s.a", "s.b"])


def test_unreachable_server_fails_the_source_naming_the_url(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    spec = LineageSource(
        kind="mlflow", location=f"http://127.0.0.1:{port}", options={"retries": 0}, timeout=2
    )
    fragment = fetch_one(spec, SourceContext(root=tmp_path, known={"a.b"}))
    assert fragment.status == "failed"
    assert f"127.0.0.1:{port}/api/2.0/mlflow/registered-models/search" in fragment.detail
    assert "cannot connect" in fragment.detail


def test_ml_type_mapping_on_the_lattice() -> None:
    assert declared_sql("long") == "BIGINT" and declared_sql("Int64") == "BIGINT"
    assert declared_sql("Array(Float32)") == "ARRAY<FLOAT>"
    assert declared_sql("INT64_LIST") == "ARRAY<BIGINT>"
    assert declared_sql("tensor") is None
    assert compare(str(declared_sql("long")), "DOUBLE") == "widened"
    assert compare(str(declared_sql("string")), "VARCHAR") == "alias"
    assert compare(str(declared_sql("datetime")), "DATE") == "narrowed"


def test_mlmodel_files_in_the_repository(tmp_path: Path) -> None:
    (tmp_path / "models" / "churn").mkdir(parents=True)
    (tmp_path / "models" / "churn" / "MLmodel").write_text(
        "metadata: {training_dataset: analytics.customer_features, owner: ml-team}\n"
        + (DATA / "MLmodel.churn_model.yaml").read_text()
    )
    (tmp_path / "models" / "orphan").mkdir()
    (tmp_path / "models" / "orphan" / "MLmodel").write_text(
        (DATA / "MLmodel.tensor_model.yaml").read_text()
    )
    spec = SimpleNamespace(name=None, location="models", options={}, namespace=None, aliases={})
    fragment = fetch_mlmodel(spec, SourceContext(root=tmp_path))
    (node,) = fragment.nodes
    assert node.id == "mlmodel:models/churn" and node.owners == ["ml-team"]
    assert node.expects["analytics.customer_features#number_of_orders"] == "long"
    assert fragment.status == "partial"
    assert "models/orphan/MLmodel: no training dataset" in fragment.detail


BASE = {
    "db/V1.sql": "CREATE SCHEMA a; CREATE TABLE a.f (id BIGINT, ltv DOUBLE, n BIGINT);",
}


def _catalog(files: dict[str, str]):  # type: ignore[no-untyped-def]
    return load_catalog(
        Snapshot({p: FileContent(p, t.encode()) for p, t in files.items()}), Config()
    )


def _model_fragment() -> GraphFragment:
    fragment = GraphFragment("mlflow", "mlflow")
    node = FragmentNode(
        "mlflow:churn/3",
        "ml_model",
        "mlflow",
        name="churn/3 (alias champion)",
        owners=["ml-team"],
        expects={"a.f#ltv": "double", "a.f#n": "long"},
        attrs={"version": "3", "aliases": ["champion"], "stage": "Production"},
    )
    fragment.node(node)
    fragment.edge("a.f#ltv", node.id, "column")
    fragment.edge("a.f#n", node.id, "column")
    return fragment


def test_report_sections_list_ml_consumers_with_version_alias_owner_and_path() -> None:
    head = {
        **BASE,
        "db/V2.sql": "ALTER TABLE a.f DROP COLUMN ltv; ALTER TABLE a.f ALTER n TYPE TEXT;",
    }
    config = Config()
    report, _ = compare_catalogs(
        _catalog(BASE),
        _catalog(head),
        analysis_settings(config),
        lineage=lambda t, k: [_model_fragment()],
    )
    report = finish(report, config)
    assert {f.rule for f in report.findings} >= {"CO201", "ML701", "ML702"}
    out = text.render(report)
    assert "ML features and models at risk (1):" in out
    assert "BREAKS churn/3 (alias champion) [ml_model mlflow:churn/3] owners: ml-team" in out
    assert "version 3 · alias champion · stage Production" in out
    assert "path: a.f#ltv -> mlflow:churn/3" in out and "path: a.f#n -> mlflow:churn/3" in out
    body = markdown.render(report)
    assert "### ML features and models at risk (1, 1 breaking)" in body
    assert "| 🔴 breaks | `churn/3 (alias champion)`<br>`mlflow:churn/3` | ml_model |" in body
    assert "version 3 · alias champion · stage Production | ml-team |" in body


def test_value_changes_reaching_a_model_are_a_skew_risk_with_their_own_severity() -> None:
    base = {**BASE, "v.sql": "CREATE VIEW a.v AS SELECT id, ltv, n FROM a.f;"}
    head = {**BASE, "v.sql": "CREATE VIEW a.v AS SELECT id, ltv * 2 AS ltv, n FROM a.f;"}
    fragment = _model_fragment()
    fragment.edge("a.v#ltv", "mlflow:churn/3", "column")
    config = Config()
    report, _ = compare_catalogs(
        _catalog(base), _catalog(head), analysis_settings(config), lineage=lambda t, k: [fragment]
    )
    report = finish(report, config)
    (vl601,) = [f for f in report.findings if f.rule == "VL601"]
    assert vl601.severity.value == "warning"
    (model,) = [i for i in vl601.impacted if i.node == "mlflow:churn/3"]
    assert not model.breaks and model.reason.startswith("training/serving skew risk")
    assert not [f for f in report.findings if f.rule.startswith("ML")]
