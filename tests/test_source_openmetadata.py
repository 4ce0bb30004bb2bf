"""The OpenMetadata source against a real local HTTP server serving SYNTHETIC lineage
answers built from OpenMetadata's JSON Schemas (tests/data/openmetadata/README.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from impact_check.config import LineageSource
from impact_check.sources import fetch_one
from impact_check.sources.base import SourceContext
from impact_check.sources.openmetadata import DEPTH_CAPPED, NO_PREFIX, UNKNOWN, relation
from tests.sourcekit import (
    FAULT_TEXT,
    FAULTS,
    after_fault,
    busy_once,
    edges,
    fault_options,
    node,
    recorded,
    serve_fault,
)

DATA = Path(__file__).parent / "data" / "openmetadata"
TOKEN = "om-bot-jwt-SECRET"
PATH = "/api/v1/lineage/table/name/pg_prod.shop.analytics.orders"
PIPELINE = "openmetadata:pipeline/airflow_prod.revenue_dag"
MODEL = "openmetadata:dashboarddatamodel/looker_prod.model.orders_explore"
DASH = "openmetadata:dashboard/looker_prod.finance_kpis"
ML = "openmetadata:mlmodel/mlflow_prod.churn_model"


def serve(server: HTTPServer, depth: int = 3, name: str = "SYNTHETIC-lineage-orders.json") -> None:
    server.expect_request(
        PATH,
        query_string={"upstreamDepth": "0", "downstreamDepth": str(depth)},
        headers={"Authorization": f"Bearer {TOKEN}"},
    ).respond_with_json(recorded(DATA, name))


def spec(server: HTTPServer, **kw: Any) -> LineageSource:
    params: dict[str, Any] = {
        "kind": "openmetadata",
        "location": server.url_for("/"),
        "token_env": "OM_TOKEN",
        "namespace": "pg_prod.shop",
        "aliases": {"pg_prod": ""},
        "depth": 3,
        "timeout": 2.0,
        "options": {**fault_options(), "dialect": "postgres", **kw.pop("options", {})},
    }
    params.update(kw)
    return LineageSource(**params)


@pytest.fixture
def ctx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SourceContext:
    monkeypatch.setenv("OM_TOKEN", TOKEN)
    return SourceContext(root=tmp_path, touched={"analytics.orders"})


def test_fqns_become_canonical_names() -> None:
    assert relation("pg_prod.shop.analytics.orders", {"pg_prod": ""}) == "analytics.orders"
    assert relation("pg_prod.shop.analytics.orders", {}) == "shop.analytics.orders"
    assert relation('pg_prod.shop."sales.eu".Orders', {}) == "shop.sales.eu.orders"


def test_tables_data_models_dashboards_models_and_pipelines(
    httpserver: HTTPServer, ctx: SourceContext
) -> None:
    serve(httpserver)
    fragment = fetch_one(spec(httpserver), ctx)
    assert fragment.status == "ok", fragment.detail
    assert edges(fragment) == {
        ("analytics.orders#amount", "analytics.revenue#gross", "projection"),
        ("analytics.orders#id", "analytics.revenue#id", "projection"),
        ("analytics.orders", PIPELINE, "reads"),
        (PIPELINE, "analytics.revenue", "writes"),
        ("analytics.orders#amount", PIPELINE, "column"),
        ("analytics.orders#id", PIPELINE, "column"),
        ("analytics.orders", MODEL, "reads"),
        ("analytics.orders#amount", MODEL, "column"),
        ("analytics.orders#status", MODEL, "column"),
        (MODEL, DASH, "reads"),
        ("analytics.revenue", ML, "reads"),
    }  # orders -> revenue at table level: said by the columns
    revenue = node(fragment, "analytics.revenue")
    assert revenue.sql.startswith("INSERT INTO analytics.revenue SELECT id, amount * 1.2")
    assert revenue.dialect == "postgres"
    assert node(fragment, DASH).kind == "dashboard" and node(fragment, DASH).name == "Finance KPIs"
    assert node(fragment, ML).kind == "ml_model" and node(fragment, PIPELINE).kind == "job"
    assert node(fragment, DASH).url == httpserver.url_for("/dashboard/looker_prod.finance_kpis")


def test_depth_is_asked_and_capped_at_three(httpserver: HTTPServer, ctx: SourceContext) -> None:
    serve(httpserver, depth=1, name="SYNTHETIC-lineage-orders-depth1.json")
    shallow = fetch_one(spec(httpserver, depth=1), ctx)
    assert DASH not in {n.id for n in shallow.nodes} and MODEL in {n.id for n in shallow.nodes}
    serve(httpserver)
    deep = fetch_one(spec(httpserver, depth=8), ctx)
    assert deep.status == "ok" and deep.counts[DEPTH_CAPPED] == 1


def test_unknown_table_and_missing_prefix_are_counted(
    httpserver: HTTPServer, ctx: SourceContext
) -> None:
    httpserver.expect_request(PATH).respond_with_json(
        {"code": 404, "message": "table instance for pg_prod.shop.analytics.orders not found"},
        status=404,
    )
    fragment = fetch_one(spec(httpserver), ctx)
    assert fragment.status == "ok" and fragment.counts[UNKNOWN] == 1 and not fragment.edges
    no_prefix = fetch_one(spec(httpserver, namespace=None), ctx)
    assert no_prefix.counts[NO_PREFIX] == 1


@pytest.mark.parametrize("fault", [f for f in FAULTS if f != "404"])
def test_faults_fail_the_source_naming_the_url(
    httpserver: HTTPServer, ctx: SourceContext, fault: str
) -> None:
    serve_fault(httpserver, PATH, fault)
    fragment = fetch_one(spec(httpserver, timeout=0.4), ctx)
    after_fault(httpserver, fault)
    assert fragment.status == "failed", fragment.detail
    assert httpserver.url_for(PATH) in fragment.detail and FAULT_TEXT[fault] in fragment.detail
    assert TOKEN not in fragment.detail


def test_429_is_retried_after_the_requested_wait(
    httpserver: HTTPServer, ctx: SourceContext
) -> None:
    serve(httpserver)
    busy_once(httpserver, PATH)
    fragment = fetch_one(spec(httpserver, options={"retries": 1}), ctx)
    assert fragment.status == "ok" and (MODEL, DASH, "reads") in edges(fragment)
    assert [r.path for r, _ in httpserver.log].count(PATH) == 2


def test_one_of_two_tables_failing_is_partial(httpserver: HTTPServer, ctx: SourceContext) -> None:
    serve(httpserver)
    serve_fault(httpserver, "/api/v1/lineage/table/name/pg_prod.shop.analytics.customers", "500")
    ctx.touched = {"analytics.orders", "analytics.customers"}
    fragment = fetch_one(spec(httpserver), ctx)
    assert fragment.status == "partial" and "analytics.customers" in fragment.detail
    assert (MODEL, DASH, "reads") in edges(fragment)


def test_cached_answer_when_the_server_is_down(
    httpserver: HTTPServer, ctx: SourceContext, tmp_path: Path
) -> None:
    serve(httpserver)
    ctx.cache_dir = tmp_path / "cache"
    first = fetch_one(spec(httpserver), ctx)
    httpserver.clear()
    serve_fault(httpserver, PATH, "503")
    again = fetch_one(spec(httpserver), ctx)
    assert again.status == "cached" and edges(again) == edges(first)
