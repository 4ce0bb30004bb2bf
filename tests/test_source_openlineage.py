"""OpenLineage events as a lineage source: the real dbt-ol run of the jaffle project checked
against the dbt manifest of the same run, the spec's facet examples, bad input, and a
cross-source check through the CLI whose verdict is confirmed by running the job in DuckDB."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest

from impact_check.config import Config, LineageSource
from impact_check.graph import LineageGraph, graph_from_catalog, merge_fragment
from impact_check.project.manifest import catalog_from_manifest
from impact_check.sources import fetch_one
from impact_check.sources.base import GraphFragment, SourceContext
from impact_check.sources.openlineage import CTE_DROPPED, UNKNOWN_DROPPED
from tests.gitrepo import GitRepo, broken_nodes

DATA = Path(__file__).parent / "data" / "openlineage"
EVENTS = DATA / "dbt-ol-jaffle-run.events.jsonl"
MANIFEST = Path(__file__).parent / "data" / "dbt" / "manifest.json"
CUSTOMERS_JOB = "openlineage:dbt-jaffle/jaffle.main.jaffle_shop.customers"


def _fetch(location: Path | str, root: Path | None = None, **spec: Any) -> GraphFragment:
    source = LineageSource(kind="openlineage", location=str(location), **spec)
    return fetch_one(source, SourceContext(root=root or Path.cwd()))


def _edges(graph: LineageGraph, kind: str) -> set[tuple[str, str]]:
    return {(s, d) for s, d, k in graph.g.edges(data="kind") if k == kind}


def test_fixture_events_validate_against_the_official_schemas() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    from referencing import Registry, Resource

    schemas = [json.loads(p.read_text()) for p in sorted(DATA.glob("schema-*.json"))]
    registry: Registry[Any] = Registry().with_resources(
        (s["$id"], Resource.from_contents(s)) for s in schemas
    )
    core = next(s for s in schemas if s["$id"].endswith("OpenLineage.json"))
    facets = {
        "columnLineage": "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json",
        "schema": "https://openlineage.io/spec/facets/1-2-0/SchemaDatasetFacet.json",
    }
    events = [json.loads(line) for line in EVENTS.read_text().splitlines() if line.strip()]
    assert len(events) == 12
    checked = 0
    for event in events:
        jsonschema.Draft202012Validator(core, registry=registry).validate(event)
        for dataset in event["inputs"] + event["outputs"]:
            for name, url in facets.items():
                if name in dataset.get("facets", {}):
                    facet_schema = {"$ref": url + "#/$defs/" + url.rsplit("/", 1)[1][:-5]}
                    validator = jsonschema.Draft202012Validator(facet_schema, registry=registry)
                    validator.validate(dataset["facets"][name])
                    checked += 1
    assert checked >= 10


def test_dbt_ol_run_has_the_manifest_edges_except_the_producer_cte_inputs() -> None:
    fragment = _fetch(EVENTS)
    assert fragment.status == "ok", fragment.detail
    # customers: four column inputs name the CTEs `orders` and `payments`
    assert fragment.counts[CTE_DROPPED] == 4
    assert fragment.counts["jobs"] == 5 and fragment.counts["events"] == 12
    ol = LineageGraph()
    merge_fragment(ol, fragment, set())
    manifest = graph_from_catalog(catalog_from_manifest(json.loads(MANIFEST.read_text()), Config()))
    ol_projection = _edges(ol, "projection")
    through_ctes = {
        ("jaffle.main.stg_orders#order_date", "jaffle.main.customers#first_order"),
        ("jaffle.main.stg_orders#order_date", "jaffle.main.customers#most_recent_order"),
        ("jaffle.main.stg_orders#order_id", "jaffle.main.customers#number_of_orders"),
        ("jaffle.main.stg_payments#amount", "jaffle.main.customers#customer_lifetime_value"),
    }
    assert ol_projection == _edges(manifest, "projection") - through_ctes
    assert len(ol_projection) == 18
    # table level: job inputs -> job outputs are the manifest's reads edges
    job_reads = {
        (src, out)
        for src, job in _edges(ol, "reads")
        if job.startswith("openlineage:")
        for out, kind in ol.successors(job)
        if kind == "writes"
    }
    manifest_reads = {(s, d) for s, d in _edges(manifest, "reads") if not d.startswith("dbt:")}
    assert job_reads == manifest_reads
    # no CTE name became a node, and dbt_exposures name the manifest's exposures
    assert not [n for n in ol.g.nodes if n.split("#")[0] in ("orders", "payments")]
    exposures = {(s, d) for s, d in _edges(manifest, "reads") if d.startswith("dbt:")}
    assert exposures <= _edges(ol, "reads")
    assert ol.attrs("dbt:exposure.jaffle_shop.churn_model")["kind"] == "ml_model"
    # the schema facet typed the documented model's columns
    assert ol.attrs("jaffle.main.customers#customer_lifetime_value")["type"] == "double"
    assert (
        "jaffle.main.stg_customers#customer_id",
        CUSTOMERS_JOB,
    ) in _edges(ol, "column")


def _event(
    job: str,
    time: str,
    inputs: list[dict[str, Any]],
    outputs: list[dict[str, Any]],
    sql: str | None = None,
    event_type: str = "COMPLETE",
) -> dict[str, Any]:
    facets = {"sql": {"query": sql, "dialect": "duckdb"}} if sql else {}
    return {
        "eventTime": time,
        "eventType": event_type,
        "producer": "https://example.com/test",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": "01a20a4b-2fe0-775f-9434-99ca53f6d481"},
        "job": {"namespace": "airflow", "name": job, "facets": facets},
        "inputs": inputs,
        "outputs": outputs,
    }


def _ds(name: str, **facets: Any) -> dict[str, Any]:
    return {"namespace": "postgres://db:5432", "name": name, "facets": facets}


def test_spec_examples_transformations_and_dataset_level_inputs(tmp_path: Path) -> None:
    # ColumnLineage 1-2-0 spec examples: a Snowflake JOIN (INDIRECT) and Spark SORT/FILTER
    # `dataset` inputs; older facets (1-0-x) carry only the deprecated transformationType
    snowflake = json.loads((DATA / "spec-tests-ColumnLineageDatasetFacet-1.json").read_text())
    spark = json.loads((DATA / "spec-tests-ColumnLineageDatasetFacet-2.json").read_text())
    nested = json.loads((DATA / "spec-tests-SchemaDatasetFacet-1.json").read_text())
    old = {
        "fields": {
            "total": {
                "inputFields": [{"namespace": "pg", "name": "s.src", "field": "amount"}],
                "transformationType": "IDENTITY",
                "transformationDescription": "identical",
            }
        }
    }
    snow_in = {"namespace": "SnowflakeOpenLineage", "name": "CUSTOMERS"}
    spark_in = {"namespace": "s3://test-bucket", "name": "/iceberg_warehouse/some-database/people"}
    events = [
        _event("snow", "2026-01-01T00:00:00Z", [snow_in], [_ds("OUT_SNOW", **snowflake)]),
        _event("spark", "2026-01-01T00:00:00Z", [spark_in], [_ds("out_spark", **spark)]),
        _event("nested", "2026-01-01T00:00:00Z", [_ds("people", **nested)], []),
        _event("old", "2026-01-01T00:00:00Z", [], [_ds("s.old", columnLineage=old)]),
    ]
    events[3]["inputs"] = [{"namespace": "pg", "name": "s.src"}]
    (tmp_path / "events.json").write_text(json.dumps(events))  # a JSON array
    fragment = _fetch(tmp_path / "events.json")
    assert fragment.status == "ok", fragment.detail
    edges = {(e.src, e.dst, e.kind) for e in fragment.edges}
    snow = "openlineage:airflow/snow"
    # NAME <- CUSTOMERS.NAME (DIRECT) and CUSTOMERS.ID (INDIRECT JOIN): only NAME flows
    assert ("customers#NAME", "out_snow#NAME", "projection") in edges
    assert ("customers#ID", snow, "column") in edges
    assert ("customers#ID", "out_snow#NAME", "projection") not in edges
    # Spark's dataset-level SORT/FILTER inputs are columns the job reads
    people = "/iceberg_warehouse/some-database/people"
    spark_job = "openlineage:airflow/spark"
    for column in ("last_name", "first_name", "age"):
        assert (f"{people}#{column}", spark_job, "column") in edges
    assert (f"{people}#age", "out_spark#ageNextYear", "projection") in edges
    assert ("s.src#amount", "s.old#total", "projection") in edges
    columns = next(n for n in fragment.nodes if n.id == "people").columns
    assert columns["addresses"] == "struct" and columns["addresses.zip"] == "string"
    assert columns["phones._element"] == "string"


def test_latest_event_per_job_wins_and_a_start_without_datasets_does_not_erase(
    tmp_path: Path,
) -> None:
    old = _event("load", "2026-01-01T10:00:00Z", [_ds("s.a")], [_ds("s.out")])
    new = _event("load", "2026-01-02T10:00:00.5+00:00", [_ds("s.b")], [_ds("s.out")])
    empty = _event("load", "2026-01-03T10:00:00Z", [], [], event_type="START")
    lines = [json.dumps(e) for e in (new, old, empty)]  # file order is not time order
    (tmp_path / "a.jsonl").write_text("\n".join(lines) + "\n")
    fragment = _fetch(tmp_path)
    reads = {(e.src, e.dst) for e in fragment.edges if e.kind == "reads"}
    assert reads == {("s.b", "openlineage:airflow/load")}
    job = next(n for n in fragment.nodes if n.kind == "job")
    assert job.attrs["event_time"].startswith("2026-01-02")


def test_cte_and_unknown_inputs_are_dropped_and_counted(tmp_path: Path) -> None:
    sql = "WITH recent AS (SELECT * FROM s.orders) SELECT id FROM recent"
    lineage = {
        "fields": {
            "id": {
                "inputFields": [
                    {"namespace": "postgres://db:5432", "name": "recent", "field": "id"},
                    {"namespace": "postgres://db:5432", "name": "s.ghost", "field": "id"},
                    {"namespace": "postgres://db:5432", "name": "s.orders", "field": "id"},
                ]
            }
        }
    }
    event = _event(
        "job", "2026-01-01T00:00:00Z", [_ds("s.orders"), _ds("recent")],
        [_ds("s.out", columnLineage=lineage)], sql=sql,
    )  # fmt: skip
    (tmp_path / "one.json").write_text(json.dumps(event, indent=2))  # one pretty object
    fragment = _fetch(tmp_path / "one.json")
    assert fragment.counts[CTE_DROPPED] == 2  # the input dataset and the column input
    assert fragment.counts[UNKNOWN_DROPPED] == 1
    assert {n.id for n in fragment.nodes} == {"s.orders", "s.out", "openlineage:airflow/job"}
    # a dataset the repository knows is not unknown, even if no event lists it
    known = fetch_one(
        LineageSource(kind="openlineage", location=str(tmp_path / "one.json")),
        SourceContext(root=tmp_path, known={"s.ghost"}),
    )
    assert UNKNOWN_DROPPED not in known.counts


def test_aliases_map_the_namespace_onto_the_repository_catalog(tmp_path: Path) -> None:
    shutil.copy(EVENTS, tmp_path / "run.jsonl")
    fragment = _fetch(tmp_path, aliases={"duckdb://jaffle.duckdb": ""})
    ids = {n.id for n in fragment.nodes}
    assert "main.customers" in ids and "jaffle.main.customers" not in ids


def test_bad_lines_are_skipped_named_and_counted(tmp_path: Path) -> None:
    good = EVENTS.read_text().splitlines()
    text = "\n".join([good[1], '{"eventTime": "2026-', good[6], "[1, 2]", '{"foo": 1}', ""])
    (tmp_path / "bad.jsonl").write_text(text)
    (tmp_path / "broken.json").write_text('{\n  "eventTime": "x",\n  "job": {\n')
    (tmp_path / "notes.txt").write_text("not read")
    fragment = _fetch(tmp_path)
    assert fragment.status == "partial"
    assert f"{tmp_path / 'bad.jsonl'}:2: invalid JSON" in fragment.detail
    # a truncated line, an array that is no object, an object that is no event, a broken file
    assert fragment.counts["unreadable records skipped"] == 4
    assert "openlineage:dbt-jaffle/jaffle.main.jaffle_shop.stg_customers" in {
        n.id for n in fragment.nodes
    }


def test_missing_path_is_a_failed_source_naming_it(tmp_path: Path) -> None:
    fragment = _fetch(tmp_path / "nowhere")
    assert fragment.status == "failed" and str(tmp_path / "nowhere") in fragment.detail
    (tmp_path / "empty").mkdir()
    assert "no *.json" in _fetch(tmp_path / "empty").detail


EXPORT_SQL = "SELECT id, amount AS amt FROM raw.orders"


def test_cli_reaches_a_job_known_only_to_openlineage_and_duckdb_agrees(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    create = "CREATE SCHEMA raw;\nCREATE TABLE raw.orders (id INT, amount DECIMAL(10,2));\n"
    drop = "ALTER TABLE raw.orders DROP COLUMN amount;\n"
    lineage = {
        "fields": {
            "id": {"inputFields": [{"namespace": "duckdb://wh", "name": "wh.raw.orders",
                                    "field": "id"}]},
            "amt": {"inputFields": [{"namespace": "duckdb://wh", "name": "wh.raw.orders",
                                     "field": "amount"}]},
        }
    }  # fmt: skip
    export = _event(
        "export_orders", "2026-01-01T00:00:00Z",
        [{"namespace": "duckdb://wh", "name": "wh.raw.orders"}],
        [{"namespace": "duckdb://wh", "name": "wh.ext.order_export",
          "facets": {"columnLineage": lineage}}],
        sql=f"CREATE TABLE ext.order_export AS {EXPORT_SQL}",
    )  # fmt: skip
    report_job = _event(
        "finance_report", "2026-01-01T01:00:00Z",
        [{"namespace": "duckdb://wh", "name": "wh.ext.order_export"}],
        [{"namespace": "duckdb://wh", "name": "wh.finance.daily"}],
    )  # fmt: skip
    events = "\n".join(json.dumps(e) for e in (export, report_job)) + "\n"
    config = "aliases:\n  duckdb://wh: ''\n"
    repo.commit(
        {
            "migrations/V1__orders.sql": create,
            "events/run.jsonl": events,
            ".impact-check.yml": config,
        }
    )
    repo.git("checkout", "-q", "-b", "drop")
    repo.commit({"migrations/V2__drop.sql": drop})
    code, report = repo.report("--lineage", "openlineage:events/")
    assert code == 1
    (dropped,) = [f for f in report["findings"] if f["rule"] == "CO201"]
    impacted = {i["node"]["id"]: i for i in dropped["impacted"]}
    job = impacted["openlineage:airflow/export_orders"]
    assert job["breaks"] and job["path"][0] == "raw.orders#amount"
    assert impacted["ext.order_export"]["breaks"]
    assert impacted["openlineage:airflow/finance_report"]["breaks"]
    (source,) = report["sources"]
    assert source["kind"] == "openlineage" and source["status"] == "ok"
    assert source["nodes"] == 5 and source["edges"] > 0 and "2 jobs" in source["detail"]
    # the alias mapped the namespace onto the repository's names: no suffix matching needed
    assert source["counts"]["jobs"] == 2 and "suffix matches" not in source["counts"]
    # truth: the job's SQL from its sql facet runs at base and fails at head
    for migrations, fails in (([create], False), ([create, drop], True)):
        con = duckdb.connect()
        for sql in migrations:
            con.execute(sql)
        if fails:
            with pytest.raises(duckdb.BinderException, match="amount"):
                con.execute(EXPORT_SQL)
        else:
            con.execute(EXPORT_SQL)


def test_cli_harmless_change_breaks_nothing_openlineage_knows(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit(
        {
            "migrations/V1__orders.sql": "CREATE SCHEMA raw; CREATE TABLE raw.orders (id INT);",
            "events/run.jsonl": json.dumps(
                _event("j", "2026-01-01T00:00:00Z", [_ds("raw.orders")], [_ds("ext.x")])
            ),
        }
    )
    repo.git("checkout", "-q", "-b", "add")
    repo.commit({"migrations/V2__add.sql": "ALTER TABLE raw.orders ADD COLUMN note TEXT;"})
    code, report = repo.report("--lineage", "openlineage:events/")
    assert code == 0
    assert not [i for f in report["findings"] for i in f["impacted"] if i["breaks"]]
    assert report["sources"][0]["status"] == "ok"


def test_dbt_ol_events_of_the_repository_itself_add_no_duplicate_consumers(
    tmp_path: Path,
) -> None:
    project = Path(__file__).parent / "data" / "jaffle_project"
    repo = GitRepo(tmp_path / "repo")
    shutil.copytree(project, repo.root / "jaffle_project")
    shutil.copy(EVENTS, repo.root / "events.jsonl")
    repo.commit()
    repo.git("checkout", "-q", "-b", "drop")
    stg = repo.root / "jaffle_project" / "models" / "staging" / "stg_orders.sql"
    repo.commit({str(stg.relative_to(repo.root)): stg.read_text().replace("order_date, ", "")})
    _code, plain = repo.report()
    _code, fetched = repo.report("--lineage", "openlineage:events.jsonl")
    assert broken_nodes(fetched) == broken_nodes(plain)
    assert "dbt:exposure.jaffle_shop.churn_model" in broken_nodes(fetched)
    impacted = {i["node"]["id"] for f in fetched["findings"] for i in f["impacted"]}
    assert not [n for n in impacted if n.startswith("openlineage:")]
    assert "5 jobs building repository datasets ignored" in fetched["sources"][0]["detail"]
    counts = fetched["sources"][0]["counts"]
    assert counts["jobs building repository datasets ignored"] == 5
    assert counts[CTE_DROPPED] == 4 and counts["events"] == 12


def test_job_events_and_dataset_events_static_lineage(tmp_path: Path) -> None:
    schema = {"fields": [{"name": "id", "type": "int"}, {"name": "amount", "type": "numeric"}]}
    dataset_event = {
        "eventTime": "2026-01-01T00:00:00Z",
        "producer": "https://example.com/test",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent",
        "dataset": _ds("s.orders", schema=schema),
    }
    job_event = _event("static_job", "2026-01-01T00:00:00Z", [_ds("s.orders")], [_ds("s.x")])
    del job_event["run"], job_event["eventType"]
    job_event["schemaURL"] = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/JobEvent"
    deleted = _event("gone", "2026-01-01T00:00:00Z", [], [_ds("s.y", schema={**schema})])
    deleted["outputs"][0]["facets"]["schema"]["_deleted"] = True
    (tmp_path / "e.jsonl").write_text(
        "\n".join(json.dumps(e) for e in (job_event, dataset_event, deleted))
    )
    fragment = _fetch(tmp_path / "e.jsonl")
    nodes = {n.id: n for n in fragment.nodes}
    assert nodes["s.orders"].columns == {"id": "int", "amount": "numeric"}
    assert nodes["s.y"].columns == {}
    assert ("s.orders", "openlineage:airflow/static_job", "reads") in {
        (e.src, e.dst, e.kind) for e in fragment.edges
    }


@pytest.mark.truth
def test_cli_a_jobs_sql_facet_is_bound_at_head_without_column_lineage(tmp_path: Path) -> None:
    """Only the facet's SQL says which columns the job reads: a drop of one it reads breaks
    it (certain), a drop of one it does not read leaves it alone; DuckDB agrees."""
    create = (
        "CREATE SCHEMA raw;\nCREATE TABLE raw.orders (id INT, amount DECIMAL(10,2), note TEXT);\n"
    )
    sql = "SELECT id, sum(amount) AS total FROM raw.orders GROUP BY id"
    job = _event(
        "totals", "2026-01-01T00:00:00Z",
        [{"namespace": "duckdb://wh", "name": "wh.raw.orders"}],
        [{"namespace": "duckdb://wh", "name": "wh.ext.totals"}],
        sql=f"INSERT INTO ext.totals {sql}",
    )  # fmt: skip
    repo = GitRepo(tmp_path / "repo")
    repo.commit(
        {
            "migrations/V1__orders.sql": create,
            "events/run.jsonl": json.dumps(job) + "\n",
            ".impact-check.yml": "aliases:\n  duckdb://wh: ''\n",
        }
    )
    for column, breaks in (("amount", True), ("note", False)):
        drop = f"ALTER TABLE raw.orders DROP COLUMN {column};\n"
        repo.git("checkout", "-q", "main")
        repo.git("checkout", "-q", "-b", f"drop-{column}")
        repo.commit({"migrations/V2__drop.sql": drop})
        code, report = repo.report("--lineage", "openlineage:events/")
        impacted = {i["node"]["id"]: i for f in report["findings"] for i in f["impacted"]}
        totals = impacted.get("openlineage:airflow/totals")
        if breaks:
            assert code == 1 and totals is not None
            assert totals["breaks"] and totals["certainty"] == "certain"
            assert "raw.orders.amount" in totals["reason"]
        else:
            assert code == 0 and totals is None  # no longer "possibly affected"
        con = duckdb.connect()
        con.execute(create)
        con.execute(drop)
        try:
            con.execute(sql)
            runs = True
        except duckdb.BinderException:
            runs = False
        assert runs is not breaks
