"""SQL carried by consumers is bound like a view (carried.py): a consumer breaks exactly when
its own query would fail at head, a declared output that no longer comes out of it breaks,
and what its query does not read does not reach it. Every "breaks" is checked in DuckDB."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

from impact_check.analysis import compare_catalogs
from impact_check.config import Config
from impact_check.model import FileContent, Report, Snapshot
from impact_check.pipeline import analysis_settings
from impact_check.project.loader import load_catalog
from impact_check.sources.base import FragmentNode, GraphFragment

BASE = (
    "CREATE SCHEMA raw;\n"
    "CREATE TABLE raw.orders (id INTEGER, amount DECIMAL(10,2), note VARCHAR, placed DATE);\n"
    "CREATE VIEW raw.big AS SELECT id, amount FROM raw.orders WHERE amount > 10;\n"
)
DROP_AMOUNT = "ALTER TABLE raw.orders DROP COLUMN amount;\n"
DROP_NOTE = "ALTER TABLE raw.orders DROP COLUMN note;\n"


def _check(head_sql: str, fragment: GraphFragment, base_sql: str = "") -> Report:
    def snapshot(*files: str) -> Snapshot:
        return Snapshot(
            {
                f"db/V{i}__m.sql": FileContent(f"db/V{i}__m.sql", t.encode())
                for i, t in enumerate(files, 1)
            }
        )

    config = Config()
    base = load_catalog(snapshot(BASE + base_sql), config)
    head = load_catalog(snapshot(BASE + base_sql, head_sql), config)
    report, _graph = compare_catalogs(
        base, head, analysis_settings(config), lineage=lambda _t, _k: [fragment]
    )
    return report


def _consumer(sql: str, declared: list[str] | None = None, **attrs: Any) -> GraphFragment:
    fragment = GraphFragment("test", "static")
    node = FragmentNode("static:job/export", "job", "static", name="export", attrs=attrs)
    node.sql = sql
    node.columns = dict.fromkeys(declared or [])
    fragment.node(node)
    return fragment


def _impacts(report: Report) -> dict[str, tuple[bool, str]]:
    return {
        i.node: (i.breaks and not i.preexisting, i.certainty)
        for f in report.findings
        for i in f.impacted
    }


def _runs(sql: str, *migrations: str) -> bool:
    con = duckdb.connect()
    for migration in (BASE, *migrations):
        con.execute(migration)
    try:
        con.execute(sql).fetchall()
    except duckdb.Error:
        return False
    return True


@pytest.mark.truth
def test_an_explicit_query_breaks_on_the_column_it_reads_and_duckdb_agrees() -> None:
    sql = "SELECT id, amount * 2 AS doubled FROM raw.orders WHERE placed > DATE '2020-01-01'"
    report = _check(DROP_AMOUNT, _consumer(sql))
    assert _impacts(report)["static:job/export"] == (True, "certain")
    (drop,) = [f for f in report.findings if f.rule == "CO201"]
    (job,) = [i for i in drop.impacted if i.node == "static:job/export"]
    assert "raw.orders.amount" in job.reason and job.path[0] == "raw.orders#amount"
    assert _runs(sql) and not _runs(sql, DROP_AMOUNT)
    # a column the query does not read does not reach it, even though it reads the table
    quiet = _check(DROP_NOTE, _consumer(sql))
    assert "static:job/export" not in _impacts(quiet)
    assert _runs(sql, DROP_NOTE)


@pytest.mark.truth
def test_star_is_expanded_and_a_declared_output_that_is_gone_breaks() -> None:
    sql = "SELECT * FROM raw.orders"
    reader = "SELECT amount FROM (SELECT * FROM raw.orders)"  # what reading the field runs
    # declared: the consumer relies on `amount` coming out of its query
    report = _check(DROP_AMOUNT, _consumer(sql, declared=["id", "amount"]))
    assert _impacts(report)["static:job/export"] == (True, "certain")
    reasons = [i.reason for f in report.findings for i in f.impacted if i.breaks]
    assert any("declares amount, which its query no longer returns" in r for r in reasons)
    assert _runs(sql, DROP_AMOUNT) and _runs(reader) and not _runs(reader, DROP_AMOUNT)
    # not declared: the star query itself still runs, so it is only affected
    plain = _check(DROP_AMOUNT, _consumer(sql))
    assert _impacts(plain)["static:job/export"] == (False, "certain")
    # declared columns that are all still there: nothing breaks
    kept = _check(DROP_NOTE, _consumer(sql, declared=["id", "amount"]))
    assert not [i for f in kept.findings for i in f.impacted if i.breaks]


@pytest.mark.truth
def test_readers_of_a_query_output_break_only_when_theirs_is_gone() -> None:
    fragment = _consumer("SELECT * FROM raw.orders")
    for column in ("amount", "id"):
        feature = f"static:feature/{column}"
        fragment.node(FragmentNode(feature, "feature", "static", name=column))
        fragment.edge(f"static:job/export#{column}", feature, "column")
    report = _check(DROP_AMOUNT, fragment)
    impacts = _impacts(report)
    assert impacts["static:feature/amount"] == (True, "certain")
    assert not impacts.get("static:feature/id", (False, ""))[0]
    (drop,) = [f for f in report.findings if f.rule == "CO201"]
    (amount,) = [i for i in drop.impacted if i.node == "static:feature/amount"]
    assert amount.path == [
        "raw.orders#amount",
        "static:job/export#amount",
        "static:feature/amount",
    ]
    assert not _runs("SELECT amount FROM (SELECT * FROM raw.orders)", DROP_AMOUNT)
    assert _runs("SELECT id FROM (SELECT * FROM raw.orders)", DROP_AMOUNT)


@pytest.mark.truth
def test_a_query_on_a_view_that_stops_building_breaks() -> None:
    sql = "SELECT count(*) AS n FROM raw.big"
    report = _check(DROP_AMOUNT, _consumer(sql))
    (job,) = [i for f in report.findings for i in f.impacted if i.node == "static:job/export"]
    assert job.breaks and "reads raw.big, which does not build" in job.reason
    assert _runs(sql) and not _runs(sql, DROP_AMOUNT)


def test_a_query_already_broken_at_base_is_preexisting() -> None:
    sql = "SELECT id, amount, discount FROM raw.orders"  # no such column at base either
    report = _check(DROP_AMOUNT, _consumer(sql))
    (job,) = [i for f in report.findings for i in f.impacted if i.node == "static:job/export"]
    assert job.breaks and job.preexisting and not report.failed
    assert not _runs(sql)


@pytest.mark.truth
def test_an_insert_job_binds_its_select_and_its_target_columns() -> None:
    archive = "CREATE TABLE raw.archive (id INTEGER, note VARCHAR);\n"
    sql = "INSERT INTO raw.archive (id, note) SELECT id, note FROM raw.orders"
    assert _runs(sql, archive)
    # the target loses a column the job writes: the job fails though its SELECT binds
    drop_target = "ALTER TABLE raw.archive DROP COLUMN note;\n"
    report = _check(drop_target, _consumer(sql), archive)
    assert _impacts(report)["static:job/export"] == (True, "certain")
    assert not _runs(sql, archive, drop_target)
    # the source loses a column it does not read: nothing
    assert "static:job/export" not in _impacts(_check(DROP_AMOUNT, _consumer(sql), archive))


def test_sql_that_cannot_be_parsed_is_an901_naming_the_consumer_and_file() -> None:
    fragment = _consumer("SELECT id, FROM WHERE", file="jobs/export.yml", line=7)
    fragment.edge("raw.orders", "static:job/export", "reads")
    report = _check(DROP_AMOUNT, fragment)
    (an901,) = [f for f in report.findings if f.rule == "AN901"]
    assert "export (static:job/export)" in an901.message
    assert an901.location is not None and an901.location.file == "jobs/export.yml"
    assert an901.location.line == 7
    # still a consumer of the table, at table level
    assert _impacts(report)["static:job/export"] == (False, "possible")
