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
