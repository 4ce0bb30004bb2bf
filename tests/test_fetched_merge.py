"""Fetched lineage fragments merged with the repository's lineage: consumers outside the
repository are reached, break when what they read disappears, and the report says so."""

from __future__ import annotations

from impact_check.analysis import compare_catalogs
from impact_check.config import Config
from impact_check.graph import LineageGraph, graph_from_catalog, merge_fragment
from impact_check.model import FileContent, Snapshot
from impact_check.pipeline import analysis_settings
from impact_check.policy import finish
from impact_check.project.loader import load_catalog
from impact_check.sources.base import FragmentNode, GraphFragment

BASE = {
    "migrations/V1__raw.sql": (
        "CREATE SCHEMA raw; CREATE TABLE raw.orders (id INT, amount DECIMAL(10,2), note TEXT);"
    ),
    "views/mart.sql": "CREATE VIEW mart.revenue AS SELECT id, amount FROM raw.orders;",
}
HEAD = {**BASE, "migrations/V2__drop.sql": "ALTER TABLE raw.orders DROP COLUMN amount;"}


def _catalog(files: dict[str, str]):  # type: ignore[no-untyped-def]
    snap = Snapshot({p: FileContent(p, t.encode()) for p, t in files.items()})
    return load_catalog(snap, Config())


def _fragment() -> GraphFragment:
    frag = GraphFragment("openlineage:events/", "openlineage")
    job = "openlineage:airflow/export_orders"
    frag.node(FragmentNode(job, "job", "openlineage"))
    frag.node(FragmentNode("prod.raw.orders", "table", "openlineage"))
    frag.node(FragmentNode("ext.order_export", "table", "openlineage", columns={"amt": "DOUBLE"}))
    frag.node(FragmentNode("datahub:dashboard/finance", "dashboard", "datahub", owners=["fin"]))
    frag.node(FragmentNode("datahub:dashboard/notes", "dashboard", "datahub"))
    frag.edge("prod.raw.orders#amount", job, "column")
    frag.edge(job, "ext.order_export", "writes")
    frag.edge("prod.raw.orders#amount", "ext.order_export#amt", "projection")
    frag.edge("ext.order_export", "datahub:dashboard/finance", "reads")
    frag.edge("prod.raw.orders#note", "datahub:dashboard/notes", "column")
    # production lineage of a view the repository defines: the repository's SQL wins
    frag.edge("prod.raw.orders#note", "mart.revenue#amount", "projection")
    return frag


def _report(head: dict[str, str], fragment: GraphFragment):  # type: ignore[no-untyped-def]
    config = Config()
    report, graph = compare_catalogs(
        _catalog(BASE),
        _catalog(head),
        analysis_settings(config),
        lineage=lambda touched, known: [fragment],
    )
    return finish(report, config), graph


def test_dropped_column_breaks_fetched_job_its_output_and_the_dashboard_on_it() -> None:
    report, _graph = _report(HEAD, _fragment())
    (dropped,) = [f for f in report.findings if f.rule == "CO201"]
    broken = {i.node: i for i in dropped.impacted if i.breaks}
    assert set(broken) == {
        "mart.revenue",
        "openlineage:airflow/export_orders",
        "ext.order_export",
        "datahub:dashboard/finance",
    }
    assert broken["datahub:dashboard/finance"].owners == ["fin"]
    assert broken["openlineage:airflow/export_orders"].path[0] == "raw.orders#amount"
    # the dashboard reading another column is not reached by this change
    assert "datahub:dashboard/notes" not in {i.node for i in dropped.impacted}
    (source,) = report.sources
    assert source.status == "ok" and source.nodes == 5
    assert "suffix" in source.detail and "SQL wins" in source.detail


def test_harmless_change_breaks_no_fetched_consumer() -> None:
    head = {**BASE, "migrations/V2__add.sql": "ALTER TABLE raw.orders ADD COLUMN x INT;"}
    report, _graph = _report(head, _fragment())
    assert not report.failed
    assert not [i for f in report.findings for i in f.impacted if i.breaks]


def test_failed_source_is_an_an905_finding_and_fails_under_policy() -> None:
    failed = GraphFragment("marquez:http://x", "marquez", status="failed", detail="timed out")
    report, _graph = _report(BASE, failed)
    (an905,) = [f for f in report.findings if f.rule == "AN905"]
    assert "timed out" in an905.message and not report.failed
    config = Config(on_source_error="fail")
    strict, _graph = compare_catalogs(
        _catalog(BASE), _catalog(BASE), analysis_settings(config), lineage=lambda t, k: [failed]
    )
    assert finish(strict, config).failed


def test_ambiguous_suffix_is_left_unmatched() -> None:
    graph = LineageGraph()
    graph.add_node("a.s.t", origin="sql", kind="table")
    graph.add_node("b.s.t", origin="sql", kind="table")
    frag = GraphFragment("f", "static")
    frag.node(FragmentNode("s.t", "table", "static"))
    stats = merge_fragment(graph, frag, set())
    assert stats.ambiguous == {"s.t"} and not stats.suffix_matches


def test_graph_from_catalog_marks_repository_origin() -> None:
    graph = graph_from_catalog(_catalog(BASE))
    assert graph.attrs("raw.orders")["origin"] == "sql"


def test_fetched_dataset_breaks_when_a_column_it_is_computed_from_is_gone() -> None:
    # DataHub and Marquez record dataset-to-dataset column lineage with no job in between
    frag = GraphFragment("datahub:x", "datahub")
    frag.node(FragmentNode("ext.enriched", "table", "datahub", columns={"usd": None, "n": None}))
    frag.node(FragmentNode("datahub:chart/c", "chart", "datahub"))
    frag.node(FragmentNode("datahub:chart/n", "chart", "datahub"))
    frag.edge("prod.raw.orders#amount", "ext.enriched#usd", "projection")
    frag.edge("prod.raw.orders#note", "ext.enriched#n", "projection")
    frag.edge("ext.enriched#usd", "datahub:chart/c", "column")
    report, _graph = _report(HEAD, frag)
    (dropped,) = [f for f in report.findings if f.rule == "CO201"]
    broken = {i.node for i in dropped.impacted if i.breaks}
    assert {"ext.enriched", "datahub:chart/c"} <= broken
    harmless = {**BASE, "migrations/V2__add.sql": "ALTER TABLE raw.orders ADD COLUMN x INT;"}
    report, _graph = _report(harmless, frag)
    assert not [i for f in report.findings for i in f.impacted if i.breaks]
