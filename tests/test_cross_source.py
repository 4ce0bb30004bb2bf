"""End to end through the CLI on a real git repository: a column dropped in the repository's
SQL breaks a job known only to Marquez and a dashboard known only to DataHub, both served
by a real local HTTP server from the recorded/SYNTHETIC payloads of tests/data/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from tests.gitrepo import GitRepo
from tests.test_source_datahub import DASH, TOKEN, GraphQL
from tests.test_source_marquez import serve as serve_marquez

BASE = {
    "migrations/V1__orders.sql": (
        "CREATE SCHEMA public;\n"
        "CREATE TABLE public.orders (id INT, amount DECIMAL(10,2), note TEXT);\n"
    ),
    "views/revenue.sql": "CREATE VIEW public.revenue AS SELECT id, amount FROM public.orders;\n",
}


def config(url: str) -> str:
    return json.dumps(
        {
            "dialect": "postgres",
            "aliases": {"postgres://db.example:5432": "", "postgres": ""},
            "lineage": [
                {"kind": "marquez", "location": url, "options": {"retries": 0}},
                {
                    "kind": "datahub",
                    "location": url,
                    "token_env": "DATAHUB_TOKEN",
                    "depth": 3,
                    "options": {"retries": 0},
                },
            ],
        }
    )


@pytest.fixture
def repo(tmp_path: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> GitRepo:
    monkeypatch.setenv("DATAHUB_TOKEN", TOKEN)
    r = GitRepo(tmp_path / "repo")
    r.commit({**BASE, ".impact-check.yml": config(httpserver.url_for("/"))}, "base")
    r.git("checkout", "-q", "-b", "feature")
    return r


def impacted(report: dict[str, Any], rule: str) -> dict[str, dict[str, Any]]:
    (finding,) = [f for f in report["findings"] if f["rule"] == rule]
    return {i["node"]["id"]: i for i in finding["impacted"]}


def test_dropped_column_breaks_consumers_only_the_lineage_stores_know(
    repo: GitRepo, httpserver: HTTPServer
) -> None:
    serve_marquez(httpserver)
    GraphQL(httpserver)
    repo.commit({"migrations/V2__drop.sql": "ALTER TABLE public.orders DROP COLUMN amount;\n"})
    code, report = repo.report("--base", "main")
    assert code == 1
    hit = impacted(report, "CO201")
    dashboard = hit[DASH]
    assert dashboard["breaks"] and dashboard["path"] == ["public.orders#amount", DASH]
    assert dashboard["node"]["kind"] == "dashboard"
    job = hit["marquez:airflow/etl.orders_daily"]
    assert job["breaks"] and job["path"] == [
        "public.orders#amount",
        "marquez:airflow/etl.orders_daily",
    ]
    assert hit["marquez:reporting/export_daily"]["breaks"]  # two hops down, through Marquez
    chart = hit["datahub:chart/looker/looks.revenue_by_day"]
    assert chart["breaks"] and chart["path"][0] == "public.orders#amount"
    assert hit["public.revenue"]["breaks"]  # the repository's own view, as before
    sources = {s["kind"]: s for s in report["sources"]}
    for kind in ("marquez", "datahub"):
        assert sources[kind]["status"] == "ok", sources[kind]
        assert sources[kind]["nodes"] > 0 and sources[kind]["edges"] > 0
    assert not [f for f in report["findings"] if f["rule"] == "AN905"]


def test_unreachable_lineage_store_is_an_an905_finding_not_silence(
    repo: GitRepo, httpserver: HTTPServer
) -> None:
    serve_marquez(httpserver)  # DataHub answers nothing: pytest-httpserver says 500
    repo.commit({"migrations/V2__drop.sql": "ALTER TABLE public.orders DROP COLUMN amount;\n"})
    _code, report = repo.report("--base", "main")
    sources = {s["kind"]: s for s in report["sources"]}
    assert sources["datahub"]["status"] == "failed"
    assert httpserver.url_for("/api/graphql") in sources["datahub"]["detail"]
    (an905,) = [f for f in report["findings"] if f["rule"] == "AN905"]
    assert "datahub" in an905["message"]
    assert "marquez:airflow/etl.orders_daily" in impacted(report, "CO201")


# ---------------------------------------------------------------- the catalog systems

CATALOG_BASE = {
    "migrations/V1__orders.sql": (
        "CREATE SCHEMA analytics;\n"
        "CREATE TABLE analytics.orders (id INT, customer_id INT, amount DECIMAL(10,2),"
        " status TEXT, ordered_at DATE);\n"
    ),
}


def catalog_config(url: str) -> str:
    quick = {"retries": 0}
    return json.dumps(
        {
            "dialect": "postgres",
            "lineage": [
                {
                    "kind": "airflow",
                    "location": url,
                    "username_env": "AIRFLOW_USER",
                    "password_env": "AIRFLOW_PASSWORD",
                    "aliases": {"postgres://db:5432": ""},
                    "options": {**quick, "rendered_sql": True},
                },
                {
                    "kind": "openmetadata",
                    "location": url,
                    "token_env": "OM_TOKEN",
                    "namespace": "pg_prod.shop",
                    "aliases": {"pg_prod": ""},
                    "depth": 3,
                    "options": {**quick, "dialect": "postgres"},
                },
                {
                    "kind": "snowflake",
                    "location": url,
                    "token_env": "SNOWFLAKE_TOKEN",
                    "aliases": {"shop": ""},
                    "options": {
                        **quick,
                        "database": "shop",
                        "warehouse": "LINEAGE_WH",
                        "role": "IMPACT_READER",
                        "token_type": "PROGRAMMATIC_ACCESS_TOKEN",
                    },
                },
                {
                    "kind": "dbt_cloud",
                    "location": url,
                    "token_env": "DBT_CLOUD_TOKEN",
                    "aliases": {"prod": ""},
                    "options": {**quick, "environments": [42]},
                },
            ],
        }
    )


def catalog_report(
    tmp_path: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> tuple[int, dict[str, Any]]:
    """The report of a check dropping analytics.orders.amount, with Airflow, OpenMetadata,
    Snowflake and dbt Cloud served from their recorded/SYNTHETIC answers."""
    from tests import (
        test_source_airflow,
        test_source_dbt_cloud,
        test_source_openmetadata,
        test_source_snowflake,
    )

    monkeypatch.setenv("AIRFLOW_USER", "impact")
    monkeypatch.setenv("AIRFLOW_PASSWORD", test_source_airflow.PASSWORD)
    monkeypatch.setenv("OM_TOKEN", test_source_openmetadata.TOKEN)
    monkeypatch.setenv("SNOWFLAKE_TOKEN", test_source_snowflake.TOKEN)
    monkeypatch.setenv("DBT_CLOUD_TOKEN", test_source_dbt_cloud.TOKEN)
    test_source_airflow.Airflow3(httpserver)
    test_source_openmetadata.serve(httpserver)
    test_source_snowflake.SqlApi(httpserver)
    test_source_dbt_cloud.Discovery(httpserver)
    repo = GitRepo(tmp_path / "repo")
    config = catalog_config(httpserver.url_for("/"))
    repo.commit({**CATALOG_BASE, ".impact-check.yml": config}, "base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({"migrations/V2__drop.sql": "ALTER TABLE analytics.orders DROP COLUMN amount;\n"})
    return repo.report("--base", "main")


def test_one_dropped_column_reaches_consumers_in_four_catalog_systems(
    tmp_path: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, report = catalog_report(tmp_path, httpserver, monkeypatch)
    assert code == 1
    hit = impacted(report, "CO201")
    sources = {s["kind"]: s for s in report["sources"]}
    assert {k: s["status"] for k, s in sources.items()} == dict.fromkeys(
        ("airflow", "openmetadata", "snowflake", "dbt_cloud"), "ok"
    )
    # OpenMetadata: column lineage into a table its pipeline builds, and a dashboard on it
    revenue = hit["analytics.revenue"]
    assert revenue["breaks"] and revenue["path"] == [
        "analytics.orders#amount",
        "analytics.revenue#gross",
    ]
    model = "openmetadata:dashboarddatamodel/looker_prod.model.orders_explore"
    assert hit[model]["breaks"] and hit[model]["path"] == ["analytics.orders#amount", model]
    assert hit["openmetadata:mlmodel/mlflow_prod.churn_model"]["breaks"]  # reads revenue
    # Snowflake: a BI service user that read the column last month
    looker = "snowflake:reader/LOOKER_SVC/REPORTER/looker"
    assert hit[looker]["breaks"] and hit[looker]["path"] == ["analytics.orders#amount", looker]
    assert {k: hit[looker]["details"][k] for k in ("user", "role", "query_tag", "queries")} == {
        "user": "LOOKER_SVC",
        "role": "REPORTER",
        "query_tag": "looker",
        "queries": 24,
    }
    assert "snowflake:reader/JANE_DOE/ANALYST/-" not in hit  # read only `status`
    # Airflow and dbt Cloud: consumers that read the table (their own SQL decides whether
    # they break once it is bound at head: tests/test_catalog_sql_binding.py)
    featurize = hit["airflow:train_churn/featurize"]
    assert featurize["path"][0].startswith("analytics.orders")
    # (bound at head, the path ends at the query's output column: …/featurize#spend)
    assert featurize["path"][-1].split("#")[0] == "airflow:train_churn/featurize"
    ltv = hit["marketing.customer_ltv"]
    assert ltv["path"][0].startswith("analytics.orders")
    assert ltv["path"][-1].split("#")[0] == "marketing.customer_ltv"
    # execution truth for the consumer called broken through OpenMetadata's column lineage:
    # the SQL OpenMetadata recorded for analytics.revenue runs at base, fails at head
    sql = "INSERT INTO analytics.revenue SELECT id, amount * 1.2 AS gross FROM analytics.orders"
    assert _builds(sql, drop_amount=False) and not _builds(sql, drop_amount=True)


def _builds(sql: str, drop_amount: bool) -> bool:
    import duckdb

    con = duckdb.connect()
    con.execute("CREATE SCHEMA analytics")
    con.execute(
        "CREATE TABLE analytics.orders (id INT, customer_id INT, amount DECIMAL(10,2),"
        " status TEXT, ordered_at DATE)"
    )
    con.execute("CREATE TABLE analytics.revenue (id INT, gross DECIMAL(12,3))")
    if drop_amount:
        con.execute("ALTER TABLE analytics.orders DROP COLUMN amount")
    try:
        con.execute(sql)
    except duckdb.Error:
        return False
    return True
