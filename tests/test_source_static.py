"""The static lineage file: its format (pydantic model = committed JSON Schema), references,
errors naming file, line and key, and consumers it declares reached through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from impact_check.config import LineageSource
from impact_check.sources import fetch_one
from impact_check.sources.base import GraphFragment, SourceContext
from impact_check.sources.static import UNKNOWN_REFS, json_schema
from tests.gitrepo import GitRepo

ROOT = Path(__file__).parent.parent

LINEAGE = """\
version: 1
datasets:
  - name: ext.order_export
    columns: {id: integer, amt: "decimal(10,2)"}
    owners: [data-platform]
consumers:
  - name: finance
    kind: dashboard
    owner: finance-team
    url: https://bi.example.com/d/42
    reads: [raw.orders.amount, "raw.orders#id", ext.order_export]
  - name: exporter
    kind: job
    reads: [raw.orders]
    writes: [ext.order_export]
  - name: churn
    kind: ml_model
    reads: [ext.order_export.amt]
    expects: {ext.order_export.amt: double}
edges:
  - {from: raw.orders.amount, to: ext.order_export.amt}
  - {from: raw.orders.note, to: exporter}
"""


def _fetch(path: Path, known: set[str] | None = None) -> GraphFragment:
    spec = LineageSource(kind="static", location=str(path))
    return fetch_one(spec, SourceContext(root=path.parent, known=known or set()))


def test_committed_json_schema_is_the_generated_one() -> None:
    committed = json.loads((ROOT / "schemas" / "lineage.schema.json").read_text())
    assert committed == json_schema(), (
        "regenerate: python -m impact_check.sources.static > schemas/lineage.schema.json"
    )


def test_example_validates_against_the_json_schema(tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    import yaml

    jsonschema.Draft202012Validator(json_schema()).validate(yaml.safe_load(LINEAGE))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(json_schema()).validate({"consumers": [{"kind": "x"}]})


def test_references_become_relation_and_column_nodes(tmp_path: Path) -> None:
    (tmp_path / "lineage.yml").write_text(LINEAGE)
    fragment = _fetch(tmp_path / "lineage.yml", known={"raw.orders"})
    assert fragment.status == "ok", fragment.detail
    edges = {(e.src, e.dst, e.kind) for e in fragment.edges}
    finance = "static:dashboard/finance"
    assert ("raw.orders#amount", finance, "column") in edges
    assert ("raw.orders#id", finance, "column") in edges
    assert ("ext.order_export", finance, "reads") in edges
    assert ("static:job/exporter", "ext.order_export", "writes") in edges
    assert ("raw.orders#amount", "ext.order_export#amt", "projection") in edges
    assert ("raw.orders#note", "static:job/exporter", "column") in edges
    nodes = {n.id: n for n in fragment.nodes}
    assert nodes[finance].owners == ["finance-team"] and nodes[finance].url
    assert nodes["ext.order_export"].columns == {"id": "integer", "amt": "decimal(10,2)"}
    assert nodes["static:ml_model/churn"].expects == {"ext.order_export#amt": "double"}
    assert UNKNOWN_REFS not in fragment.counts
    # without the repository knowing raw.orders, `raw.orders.amount` is a relation: counted
    unknown = _fetch(tmp_path / "lineage.yml")
    assert unknown.counts[UNKNOWN_REFS] >= 1


def test_invalid_entries_are_named_by_file_line_and_key_and_the_rest_is_read(
    tmp_path: Path,
) -> None:
    text = LINEAGE.replace("kind: ml_model", "kind: spreadsheet")
    (tmp_path / "lineage.yml").write_text(text)
    fragment = _fetch(tmp_path / "lineage.yml", known={"raw.orders"})
    assert fragment.status == "partial"
    line = text.splitlines().index("    kind: spreadsheet") + 1
    assert f"lineage.yml:{line}: consumers.2.kind:" in fragment.detail
    assert "static:dashboard/finance" in {n.id for n in fragment.nodes}
    assert "static:ml_model/churn" not in {n.id for n in fragment.nodes}


def test_json_file_unknown_key_and_bad_syntax(tmp_path: Path) -> None:
    doc = {"datasets": [{"name": "a.b", "colums": {}}]}
    (tmp_path / "l.json").write_text(json.dumps(doc, indent=2))
    fragment = _fetch(tmp_path / "l.json")
    assert fragment.status == "partial"
    assert "l.json:5: datasets.0.colums: Extra inputs are not permitted" in fragment.detail
    (tmp_path / "bad.yml").write_text("consumers:\n  - name: x\n   reads: [a\n")
    failed = _fetch(tmp_path / "bad.yml")
    assert failed.status == "failed" and "bad.yml:3: invalid YAML" in failed.detail
    (tmp_path / "bad.json").write_text('{"datasets": [}')
    assert "bad.json:1: invalid JSON" in _fetch(tmp_path / "bad.json").detail
    (tmp_path / "v.yml").write_text("version: 2\n")
    assert "v.yml:1: version:" in _fetch(tmp_path / "v.yml").detail
    assert "no such file" in _fetch(tmp_path / "missing.yml").detail


def test_yaml_is_loaded_safely(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    payload = f"!!python/object/apply:os.system ['touch {marker}']\n"
    (tmp_path / "evil.yml").write_text(f"datasets: {payload}")
    fragment = _fetch(tmp_path / "evil.yml")
    assert fragment.status == "failed" and not marker.exists()


def test_cli_dashboard_declared_only_in_the_static_file_breaks(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit(
        {
            "migrations/V1.sql": "CREATE SCHEMA raw; CREATE TABLE raw.orders "
            "(id INT, amount DECIMAL(10,2), note TEXT);",
            "lineage.yml": LINEAGE,
            ".impact-check.yml": "lineage:\n  - kind: static\n    location: lineage.yml\n",
        }
    )
    repo.git("checkout", "-q", "-b", "drop")
    repo.commit({"migrations/V2.sql": "ALTER TABLE raw.orders DROP COLUMN note;"})
    code, report = repo.report()
    assert code == 1
    (dropped,) = [f for f in report["findings"] if f["rule"] == "CO201"]
    broken = {i["node"]["id"] for i in dropped["impacted"] if i["breaks"]}
    # the exporter reads the dropped column; what it writes and who reads that break too
    assert {"static:job/exporter", "ext.order_export", "static:dashboard/finance"} <= broken
    assert report["sources"][0]["kind"] == "static" and report["sources"][0]["status"] == "ok"
    repo.git("checkout", "-q", "main")
    repo.git("checkout", "-q", "-b", "other")
    repo.commit({"migrations/V2.sql": "ALTER TABLE raw.orders ADD COLUMN x INT;"})
    code, report = repo.report()
    assert code == 0


SQL_LINEAGE = """\
consumers:
  - name: revenue
    kind: dashboard
    owner: finance@example.com
    dialect: postgres
    sql: |
      SELECT o.id, o.amount * 2 AS doubled FROM raw.orders AS o WHERE o.note <> 'test'
  - name: wide
    kind: report
    sql: SELECT * FROM raw.orders
    columns: [id, amount]
"""


@pytest.mark.truth
def test_cli_consumer_sql_in_the_static_file_is_bound_at_head(tmp_path: Path) -> None:
    import duckdb

    create = "CREATE SCHEMA raw; CREATE TABLE raw.orders (id INT, amount DECIMAL(10,2), note TEXT);"
    repo = GitRepo(tmp_path / "repo")
    repo.commit(
        {
            "migrations/V1.sql": create,
            "lineage.yml": SQL_LINEAGE,
            ".impact-check.yml": "lineage:\n  - kind: static\n    location: lineage.yml\n",
        }
    )
    doc = yaml.safe_load(SQL_LINEAGE)["consumers"]
    for branch, change, breaks in (
        ("drop-note", "ALTER TABLE raw.orders DROP COLUMN note;", {"static:dashboard/revenue"}),
        (
            "drop-amount",
            "ALTER TABLE raw.orders DROP COLUMN amount;",
            {"static:dashboard/revenue", "static:report/wide"},
        ),
        ("add", "ALTER TABLE raw.orders ADD COLUMN region TEXT;", set()),
    ):
        repo.git("checkout", "-q", "main")
        repo.git("checkout", "-q", "-b", branch)
        repo.commit({"migrations/V2.sql": change})
        code, report = repo.report()
        impacted = {i["node"]["id"]: i for f in report["findings"] for i in f["impacted"]}
        assert {n for n, i in impacted.items() if i["breaks"]} == breaks, branch
        assert code == (1 if breaks else 0)
        # truth: the dashboard's query, and the report's declared fields read from its query
        con = duckdb.connect()
        con.execute(create)
        con.execute(change)
        for consumer in doc:
            node = f"static:{consumer['kind']}/{consumer['name']}"
            fields = ", ".join(consumer.get("columns") or ["*"])
            try:
                con.execute(f"SELECT {fields} FROM ({consumer['sql']}) AS q").fetchall()
                runs = True
            except duckdb.Error:
                runs = False
            assert runs == (node not in breaks), (branch, node)
    # the dashboard's owner comes with it
    repo.git("checkout", "-q", "drop-note")
    _code, report = repo.report()
    (dashboard,) = [
        i for f in report["findings"] for i in f["impacted"] if i["node"]["id"].endswith("revenue")
    ]
    assert dashboard["node"]["owners"] == ["finance@example.com"]
    assert "raw.orders.note" in dashboard["reason"]
