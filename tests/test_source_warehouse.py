"""Warehouse schemas as a source: relations loaded by other tools, read from a real DuckDB
file and a real PostgreSQL server, feed the catalog so `SELECT *` over them expands and
their columns are checked; verdicts are confirmed by building the views in the engine."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from impact_check.config import LineageSource
from impact_check.sources import fetch_one
from impact_check.sources.base import GraphFragment, SourceContext
from tests.gitrepo import GitRepo, broken_nodes

LOADED_BY_FIVETRAN = """
CREATE SCHEMA raw;
CREATE TABLE raw.orders (id INTEGER, amount DECIMAL(10,2), status VARCHAR, note VARCHAR);
CREATE VIEW raw.open_orders AS SELECT * FROM raw.orders WHERE status = 'open';
"""
BASE_VIEWS = {
    "views/V1__orders.sql": "CREATE SCHEMA analytics;\n"
    "CREATE VIEW analytics.orders AS SELECT * FROM raw.orders;\n",
    "views/V2__revenue.sql": "CREATE VIEW analytics.revenue AS "
    "SELECT id, amount * 2 AS doubled FROM analytics.orders;\n",
}
HEAD_VIEWS = {
    **BASE_VIEWS,
    "views/V1__orders.sql": "CREATE SCHEMA analytics;\n"
    "CREATE VIEW analytics.orders AS SELECT id, status FROM raw.orders;\n",
}


def _warehouse(path: Path) -> Path:
    con = duckdb.connect(str(path))
    con.execute(LOADED_BY_FIVETRAN)
    con.close()
    return path


def _fetch(location: str, root: Path, **kwargs: object) -> GraphFragment:
    options = kwargs.pop("options", {})
    spec = LineageSource(kind="warehouse", location=location, options=options)  # type: ignore[arg-type]
    return fetch_one(spec, SourceContext(root=root, **kwargs))  # type: ignore[arg-type]


def test_duckdb_file_relations_columns_and_types(tmp_path: Path) -> None:
    _warehouse(tmp_path / "wh.duckdb")
    fragment = _fetch("duckdb:wh.duckdb", tmp_path)
    assert fragment.status == "ok", fragment.detail
    nodes = {n.id: n for n in fragment.nodes}
    assert set(nodes) == {"raw.orders", "raw.open_orders"}
    assert nodes["raw.orders"].columns == {
        "id": "INTEGER",
        "amount": "DECIMAL(10,2)",
        "status": "VARCHAR",
        "note": "VARCHAR",
    }
    assert nodes["raw.open_orders"].kind == "view"
    only = _fetch("duckdb:wh.duckdb", tmp_path, options={"schemas": ["analytics"]})
    assert only.nodes == []
    catalog = _fetch("duckdb:wh.duckdb", tmp_path, options={"include_catalog": True})
    assert "wh.raw.orders" in {n.id for n in catalog.nodes}


def test_duckdb_is_opened_read_only(tmp_path: Path) -> None:
    path = _warehouse(tmp_path / "wh.duckdb")
    before = path.read_bytes()
    assert _fetch("duckdb:wh.duckdb", tmp_path).status == "ok"
    assert path.read_bytes() == before
    path.chmod(0o444)  # a read-only file opens only read-only
    try:
        assert _fetch("duckdb:wh.duckdb", tmp_path).status == "ok"
    finally:
        path.chmod(0o644)


def test_cache_serves_failures_and_offline_runs(tmp_path: Path) -> None:
    path = _warehouse(tmp_path / "wh.duckdb")
    cache = tmp_path / "cache"
    assert _fetch("duckdb:wh.duckdb", tmp_path, cache_dir=cache).status == "ok"
    path.unlink()
    fallback = _fetch("duckdb:wh.duckdb", tmp_path, cache_dir=cache)
    assert fallback.status == "cached" and "no such file" in fallback.detail
    assert "raw.orders" in {n.id for n in fallback.nodes}
    offline = _fetch("duckdb:wh.duckdb", tmp_path, cache_dir=cache, offline=True)
    assert offline.status == "cached" and offline.detail.startswith("offline")
    no_cache = _fetch("duckdb:wh.duckdb", tmp_path, cache_dir=cache, use_cache=False)  # --no-cache
    assert no_cache.status == "failed" and "wh.duckdb: no such file" in no_cache.detail
    empty = _fetch("duckdb:wh.duckdb", tmp_path, cache_dir=tmp_path / "none", offline=True)
    assert empty.status == "failed" and "no cached answer" in empty.detail


def test_configuration_errors_name_what_is_wrong(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "unknown engine 'oracle'" in _fetch("oracle", tmp_path).detail
    assert "options.dsn_env" in _fetch("postgres", tmp_path).detail
    monkeypatch.delenv("WH_DSN", raising=False)
    missing = _fetch("postgres", tmp_path, options={"dsn_env": "WH_DSN"})
    assert missing.status == "failed" and "WH_DSN is not set" in missing.detail
    monkeypatch.setenv("WH_DSN", f"host={tmp_path} port=1 user=u password=hunter2 dbname=x")
    refused = _fetch("postgres", tmp_path, options={"dsn_env": "WH_DSN"})
    assert refused.status == "failed" and "$WH_DSN" in refused.detail
    assert "hunter2" not in refused.detail


def _repo(tmp_path: Path, config: str) -> GitRepo:
    repo = GitRepo(tmp_path / "repo")
    repo.commit({**BASE_VIEWS, ".impact-check.yml": config, ".gitignore": ".impact-check/\n"})
    repo.git("checkout", "-q", "-b", "narrow")
    repo.commit(HEAD_VIEWS)
    return repo


def _build(con: duckdb.DuckDBPyConnection, views: dict[str, str]) -> str | None:
    """Create the views in order; the first error, or None."""
    try:
        for path in sorted(views):
            con.execute(views[path])
    except duckdb.Error as err:
        return str(err)
    return None


def test_cli_select_star_over_a_warehouse_table_expands_and_duckdb_agrees(
    tmp_path: Path,
) -> None:
    _warehouse(tmp_path / "wh.duckdb")
    config = f"lineage:\n  - kind: warehouse\n    location: duckdb:{tmp_path / 'wh.duckdb'}\n"
    repo = _repo(tmp_path, config)
    code, report = repo.report()
    assert code == 1
    dropped = [c["target"]["id"] for c in report["changes"] if c["kind"] == "column_dropped"]
    assert dropped == ["analytics.orders#amount", "analytics.orders#note"]
    assert broken_nodes(report) == {"analytics.revenue"}
    co201 = [f for f in report["findings"] if f["rule"] == "CO201"]
    paths = [i["path"] for f in co201 for i in f["impacted"] if i["breaks"]]
    assert ["analytics.orders#amount", "analytics.revenue#doubled"] in paths
    (source,) = report["sources"]
    assert source["kind"] == "warehouse" and source["status"] == "ok"
    assert source["nodes"] == 1 and "2 warehouse relations" in source["detail"]
    # without the warehouse the `*` hides the base columns: no dropped column is seen
    (repo.root / ".impact-check.yml").write_text("{}\n")
    _code, blind = repo.report()
    assert not [c for c in blind["changes"] if c["kind"] == "column_dropped"]
    # truth: the same views built over the warehouse's tables
    for views, fails in ((BASE_VIEWS, False), (HEAD_VIEWS, True)):
        con = duckdb.connect()
        con.execute(f"ATTACH '{tmp_path / 'wh.duckdb'}' AS wh (READ_ONLY); USE wh;")
        con.execute("ATTACH ':memory:' AS scratch; USE scratch; CREATE SCHEMA raw;")
        con.execute("CREATE VIEW raw.orders AS SELECT * FROM wh.raw.orders")
        error = _build(con, views)
        assert (error is not None) == fails, error
        if fails:
            assert "amount" in str(error)


def test_cli_column_typo_against_a_warehouse_table_does_not_bind(tmp_path: Path) -> None:
    _warehouse(tmp_path / "wh.duckdb")
    repo = GitRepo(tmp_path / "repo")
    config = f"lineage:\n  - kind: warehouse\n    location: duckdb:{tmp_path / 'wh.duckdb'}\n"
    good = "CREATE SCHEMA analytics; CREATE VIEW analytics.s AS SELECT id, note FROM raw.orders;"
    repo.commit({"v.sql": good, ".impact-check.yml": config, ".gitignore": ".impact-check/\n"})
    repo.git("checkout", "-q", "-b", "typo")
    repo.commit({"v.sql": good.replace("note", "notes")})
    code, report = repo.report()
    assert code == 1
    assert any("raw.orders.notes, which does not exist" in f["message"] for f in report["findings"])
    con = duckdb.connect(str(tmp_path / "wh.duckdb"), read_only=True)
    with pytest.raises(duckdb.BinderException, match="notes"):
        con.execute("SELECT id, notes FROM raw.orders")


@pytest.mark.postgres
def test_postgres_information_schema_and_cli_with_truth(
    postgres_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    psycopg = pytest.importorskip("psycopg")
    with psycopg.connect(postgres_dsn, autocommit=True) as con:
        con.execute("DROP DATABASE IF EXISTS wh_source")
        con.execute("CREATE DATABASE wh_source")
    dsn = postgres_dsn.replace("dbname=postgres", "dbname=wh_source")
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute(
            "CREATE SCHEMA raw; CREATE TABLE raw.orders (id int, amount numeric(10,2), "
            'status varchar(20), tags text[], "Region" text, note text)'
        )
    monkeypatch.setenv("WH_DSN", dsn)
    fragment = _fetch("postgres", tmp_path, options={"dsn_env": "WH_DSN"})
    assert fragment.status == "ok", fragment.detail
    (orders,) = fragment.nodes
    assert orders.id == "raw.orders"
    assert orders.columns == {
        "id": "integer",
        "amount": "numeric(10,2)",
        "status": "character varying(20)",
        "tags": "text[]",
        "Region": "text",
        "note": "text",
    }
    config = "dialect: postgres\nlineage:\n  - kind: warehouse\n    location: postgres\n"
    config += "    options: {dsn_env: WH_DSN}\n"
    repo = _repo(tmp_path, config)
    code, report = repo.report()
    assert code == 1 and broken_nodes(report) == {"analytics.revenue"}
    assert report["sources"][0]["status"] == "ok"
    # truth: build the head views in PostgreSQL (and roll back)
    with psycopg.connect(dsn) as con:
        for views, fails in ((BASE_VIEWS, False), (HEAD_VIEWS, True)):
            try:
                for path in sorted(views):
                    con.execute(views[path])
                error = None
            except psycopg.Error as err:
                error = str(err)
            con.rollback()
            assert (error is not None) == fails, error
    with psycopg.connect(postgres_dsn, autocommit=True) as con:
        con.execute("DROP DATABASE wh_source WITH (FORCE)")


def test_cache_file_is_json_keyed_by_location(tmp_path: Path) -> None:
    _warehouse(tmp_path / "wh.duckdb")
    cache = tmp_path / "cache"
    _fetch("duckdb:wh.duckdb", tmp_path, cache_dir=cache)
    _fetch("duckdb:wh.duckdb", tmp_path, cache_dir=cache, options={"schemas": ["raw"]})
    files = sorted((cache / "http").glob("*.json"))
    assert len(files) == 2
    payload = json.loads(files[0].read_text())["body"]
    assert payload["fetched_at"] and payload["relations"]
    for file in files:  # the cache lives in the checked tree: a bad entry is no answer
        file.write_text('{"version": 1, "body": {"relations": [[1]]}}')
    (tmp_path / "wh.duckdb").unlink()
    broken = _fetch("duckdb:wh.duckdb", tmp_path, cache_dir=cache)
    assert broken.status == "failed" and "no such file" in broken.detail


def _config(tmp_path: Path) -> str:
    return f"lineage:\n  - kind: warehouse\n    location: duckdb:{tmp_path / 'wh.duckdb'}\n"


def test_a_table_the_repository_stops_defining_is_not_revived_by_the_warehouse(
    tmp_path: Path,
) -> None:
    _warehouse(tmp_path / "wh.duckdb")  # production still has raw.orders
    repo = GitRepo(tmp_path / "repo")
    ddl = "CREATE SCHEMA raw; CREATE TABLE raw.orders (id INTEGER, amount DECIMAL(10,2));"
    view = "CREATE VIEW raw.totals AS SELECT sum(amount) AS total FROM raw.orders;"
    repo.commit({"a_tables.sql": ddl, "b_views.sql": view, ".impact-check.yml": _config(tmp_path)})
    repo.git("checkout", "-q", "-b", "drop")
    repo.commit({"a_tables.sql": "CREATE SCHEMA raw;"})
    _code, report = repo.report()
    kinds = {(c["kind"], c["target"]["id"]) for c in report["changes"]}
    assert ("table_dropped", "raw.orders") in kinds
    assert "raw.totals" in broken_nodes(report)


DBT_PROJECT = {
    "dbt_project.yml": "name: shop\nversion: '1.0'\nprofile: shop\nmodel-paths: [models]\n",
    "profiles.yml": "shop:\n  target: dev\n  outputs:\n    dev: {type: duckdb, path: x.duckdb,"
    " schema: analytics}\n",
    "models/sources.yml": "version: 2\nsources:\n  - name: raw\n    tables:\n"
    "      - name: orders\n",
    "models/stg_orders.sql": "select * from {{ source('raw', 'orders') }}\n",
    "models/revenue.sql": "select id, amount * 2 as doubled from {{ ref('stg_orders') }}\n",
}


def test_dbt_source_declared_without_columns_gets_the_warehouse_columns(
    tmp_path: Path,
) -> None:
    _warehouse(tmp_path / "wh.duckdb")
    repo = GitRepo(tmp_path / "repo")
    repo.commit({**DBT_PROJECT, ".impact-check.yml": _config(tmp_path)})
    repo.git("checkout", "-q", "-b", "narrow")
    repo.commit({"models/stg_orders.sql": "select id from {{ source('raw', 'orders') }}\n"})
    code, report = repo.report()
    assert code == 1
    dropped = {c["target"]["id"] for c in report["changes"] if c["kind"] == "column_dropped"}
    assert "analytics.stg_orders#amount" in dropped
    co201 = [f for f in report["findings"] if f["rule"] == "CO201"]
    assert "analytics.revenue" in {i["node"]["id"] for f in co201 for i in f["impacted"]}
