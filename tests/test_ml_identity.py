"""One ML model, one node: a dbt ``ml`` exposure, DataHub's mlModel/mlModelGroup and the
MLflow (or MLmodel) version that name the same registered model merge, with all owners."""

from __future__ import annotations

from pathlib import Path

from gitrepo import GitRepo

from impact_check.analysis import compare_catalogs
from impact_check.config import Config
from impact_check.identity import ModelIdentity, exposure_model, model_identity
from impact_check.model import FileContent, Snapshot
from impact_check.pipeline import analysis_settings
from impact_check.policy import finish
from impact_check.project.loader import load_catalog
from impact_check.sources.base import FragmentNode, GraphFragment

PROJECT = "name: shop\nconfig-version: 2\nprofile: shop\n"
SCHEMA = """version: 2
exposures:
  - name: {name}
    type: ml
    owner: {{name: ML Platform}}
    depends_on:
      - ref('customer_features')
"""
FEATURES = "select 1 as customer_id, 2.0 as lifetime_value, 3 as number_of_orders\n"
DROPPED = "select 1 as customer_id, 3 as number_of_orders\n"
MLMODEL = """metadata:
  registered_model_name: Churn_Model
  version: 3
  training_dataset: main.customer_features
  owner: alice
signature:
  inputs: '[{"type": "double", "name": "lifetime_value", "required": true}]'
"""


def _files(features: str, exposure: str = "churn_model") -> dict[str, str]:
    return {
        "dbt_project.yml": PROJECT,
        "models/schema.yml": SCHEMA.format(name=exposure),
        "models/customer_features.sql": features,
    }


def _catalog(files: dict[str, str]):  # type: ignore[no-untyped-def]
    snap = Snapshot({p: FileContent(p, t.encode()) for p, t in files.items()})
    return load_catalog(snap, Config())


def _fragment() -> GraphFragment:
    frag = GraphFragment("datahub-file:mcps.json", "datahub-file")
    version = "mlflow:churn_model/3"
    frag.node(
        FragmentNode(
            version,
            "ml_model",
            "mlflow",
            name="churn_model/3",
            owners=["alice"],
            attrs={"model": "churn_model", "version": "3"},
        )
    )
    # DataHub's mlflow ingestion: mlModel <model>_<version>, mlModelGroup <model>
    frag.node(
        FragmentNode(
            "datahub:ml_model/mlflow/churn_model_3", "ml_model", "datahub", owners=["datahub-owner"]
        )
    )
    frag.node(FragmentNode("datahub:ml_model/mlflow/churn_model", "ml_model", "datahub"))
    frag.edge("main.customer_features#lifetime_value", version, "column")
    frag.edge("datahub:ml_model/mlflow/churn_model_3", "datahub:dashboard/churn", "reads")
    return frag


def _report(head: dict[str, str], base: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    config = Config()
    report, graph = compare_catalogs(
        _catalog(base or _files(FEATURES)),
        _catalog(head),
        analysis_settings(config),
        lineage=lambda touched, known: [_fragment()],
    )
    return finish(report, config), graph


def test_exposure_names_its_model_by_meta_then_url_then_name() -> None:
    assert exposure_model({"name": "x", "meta": {"mlflow_model": "churn"}}) == "churn"
    assert exposure_model({"name": "x", "config": {"meta": {"model": "churn"}}}) == "churn"
    assert exposure_model({"name": "x", "url": "http://m/#/models/churn/versions/2"}) == "churn"
    assert exposure_model({"name": "churn_exposure", "url": "http://bi/d/7"}) == "churn_exposure"


def test_datahub_urn_name_splits_off_a_version_only_for_a_known_model() -> None:
    attrs = {"kind": "ml_model"}
    node = "datahub:ml_model/mlflow/churn_model_3"
    assert model_identity(node, attrs, {"churn_model"}) == ModelIdentity("churn_model", "3")
    assert model_identity(node, attrs) == ModelIdentity("churn_model_3")
    with_url = {**attrs, "url": "http://mlflow/#/models/Churn_Model/versions/3"}
    assert model_identity(node, with_url) == ModelIdentity("churn_model", "3")
    assert model_identity("main.orders", {"kind": "table", "model": "x"}) is None


def test_exposure_datahub_and_mlflow_nodes_of_one_model_are_one_impacted_node() -> None:
    report, graph = _report(_files(DROPPED))
    (dropped,) = [f for f in report.findings if f.rule == "CO201"]
    models = [i for i in dropped.impacted if i.kind == "ml_model"]
    assert [m.node for m in models] == ["mlflow:churn_model/3"]
    (model,) = models
    assert model.breaks
    assert model.owners == ["alice", "ML Platform", "datahub-owner"]
    assert model.details["also_known_as"] == [
        "dbt:exposure.shop.churn_model",
        "datahub:ml_model/mlflow/churn_model_3",
        "datahub:ml_model/mlflow/churn_model",
    ]
    assert model.name is not None and "known from mlflow, " in model.name
    assert "dbt" in model.name and "datahub" in model.name
    for gone in model.details["also_known_as"]:  # type: ignore[attr-defined]
        assert gone not in graph
    # DataHub's edge out of its mlModel now leaves the merged node
    assert graph.g.has_edge("mlflow:churn_model/3", "datahub:dashboard/churn")
    (ml701,) = [f for f in report.findings if f.rule == "ML701"]
    assert [i.node for i in ml701.impacted if i.kind == "ml_model"] == ["mlflow:churn_model/3"]


def test_exposure_naming_another_model_stays_its_own_node() -> None:
    base = _files(FEATURES, exposure="fraud_model")
    report, graph = _report(_files(DROPPED, exposure="fraud_model"), base)
    (dropped,) = [f for f in report.findings if f.rule == "CO201"]
    nodes = {i.node for i in dropped.impacted if i.kind == "ml_model"}
    assert nodes == {"mlflow:churn_model/3", "dbt:exposure.shop.fraud_model"}
    assert "datahub:ml_model/mlflow/churn_model" not in graph  # DataHub's still merge


def test_two_versions_stay_two_nodes_and_a_versionless_name_joins_the_newest() -> None:
    from impact_check.graph import LineageGraph, merge_same_models

    graph = LineageGraph()
    for version in ("2", "10"):
        graph.add_node(
            f"mlflow:m/{version}",
            kind="ml_model",
            origin="mlflow",
            model="m",
            version=version,
            name=f"m/{version}",
        )
    graph.add_node("dbt:exposure.p.m", kind="ml_model", origin="dbt", model="M", owners=["o"])
    assert merge_same_models(graph) == {"dbt:exposure.p.m": "mlflow:m/10"}
    assert graph.attrs("mlflow:m/10")["owners"] == ["o"] and "mlflow:m/2" in graph


def test_cli_dbt_exposure_and_mlmodel_file_are_one_impacted_model(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    files: dict[str, str | bytes | None] = {
        **_files(FEATURES),
        "ml/churn/MLmodel": MLMODEL,
        ".impact-check.yml": "lineage:\n  - {kind: mlmodel, location: ml}\n",
    }
    repo.commit(files, "base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({"models/customer_features.sql": DROPPED}, "drop lifetime_value")
    code, report = repo.report("--base", "main", "--head", "feature")
    assert code == 1
    impacted = [i for f in report["findings"] for i in f["impacted"]]
    models = {i["node"]["id"] for i in impacted if i["node"]["kind"] in ("ml_model", "model")}
    assert models == {"mlflow:Churn_Model/3"}
    (first, *_rest) = [i for i in impacted if i["node"]["id"] == "mlflow:Churn_Model/3"]
    assert first["node"]["owners"] == ["alice", "ML Platform"]
    assert "dbt:exposure.shop.churn_model" in first["details"]["also_known_as"]
    assert "known from mlmodel, dbt" in first["node"]["name"]
