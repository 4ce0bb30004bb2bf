"""The Atlas source (and Purview's compatible API) against a real local HTTP server serving
SYNTHETIC AtlasLineageInfo answers (tests/data/atlas/README.md)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from impact_check.config import LineageSource
from impact_check.sources import fetch_one
from impact_check.sources.atlas import UNKNOWN, Names, qualified_name
from impact_check.sources.base import SourceContext
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

DATA = Path(__file__).parent / "data" / "atlas"
PASSWORD = "atlas-PW-secret"
BASIC = "Basic " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode()
G = "a821e5ac-f9c4-4a9b-a90f-{:012d}".format
ENTITY = "/api/atlas/v2/entity/uniqueAttribute/type/hive_table"
ETL = "atlas:process/shop.orders_daily@primary:1764748800000"
TRAIN = "atlas:process/churn_training@primary"
REPORT = "atlas:powerbi_report/powerbi://finance/reports/daily_sales"


def serve(server: HTTPServer) -> None:
    auth = {"Authorization": BASIC}
    server.expect_request(
        ENTITY, query_string={"attr:qualifiedName": "shop.orders@primary"}, headers=auth
    ).respond_with_json(recorded(DATA, "SYNTHETIC-entity-orders.json"))
    for guid, name in [(1, "orders"), (11, "orders-id"), (12, "orders-amount")]:
        server.expect_request(
            f"/api/atlas/v2/lineage/{G(guid)}",
            query_string={"direction": "OUTPUT", "depth": "3"},
            headers=auth,
        ).respond_with_json(recorded(DATA, f"SYNTHETIC-lineage-{name}.json"))
    server.expect_request(f"/api/atlas/v2/lineage/{G(13)}").respond_with_json(
        recorded(DATA, "SYNTHETIC-lineage-orders-status.json")
    )


def spec(server: HTTPServer, **kw: Any) -> LineageSource:
    params: dict[str, Any] = {
        "kind": "atlas",
        "location": server.url_for("/"),
        "username_env": "ATLAS_USER",
        "password_env": "ATLAS_PASSWORD",
        "namespace": "primary",
        "depth": 3,
        "timeout": 2.0,
        "options": {**fault_options(), **kw.pop("options", {})},
    }
    params.update(kw)
    return LineageSource(**params)


@pytest.fixture
def ctx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SourceContext:
    monkeypatch.setenv("ATLAS_USER", "admin")
    monkeypatch.setenv("ATLAS_PASSWORD", PASSWORD)
    return SourceContext(root=tmp_path, touched={"shop.orders"})


def test_names_of_hive_and_purview_entities() -> None:
    names = Names({})
    assert names.relation("shop.orders@primary") == "shop.orders"
    assert names.column("shop.orders.amount@primary") == "shop.orders#amount"
    uri = "mssql://srv.database.windows.net/shop/analytics/orders"
    assert Names({"mssql://srv.database.windows.net": ""}).relation(uri) == "analytics.orders"
    assert names.column(uri + "#amount") == "shop.analytics.orders#amount"
    assert qualified_name("{name}@{namespace}", "shop.orders", "primary") == "shop.orders@primary"
    template = "mssql://srv/{database}/{schema}/{table}"
    assert (
        qualified_name(template, "shop.analytics.orders", None)
        == "mssql://srv/shop/analytics/orders"
    )


def test_processes_columns_and_reports_downstream(
    httpserver: HTTPServer, ctx: SourceContext
) -> None:
    serve(httpserver)
    fragment = fetch_one(spec(httpserver), ctx)
    assert fragment.status == "ok", fragment.detail
    assert edges(fragment) == {
        ("shop.orders", ETL, "reads"),
        (ETL, "shop.orders_daily", "writes"),
        ("shop.orders", TRAIN, "reads"),
        ("shop.orders_daily", REPORT, "reads"),
        ("shop.orders#amount", "shop.orders_daily#total", "projection"),  # via hive_column_lineage
        ("shop.orders#amount", TRAIN, "column"),
    }
    assert node(fragment, TRAIN).kind == "job" and node(fragment, TRAIN).owners == ["ml"]
    assert node(fragment, REPORT).kind == "dashboard"
    assert node(fragment, "shop.orders").attrs["guid"] == G(1)


def test_purview_data_map_api(
    httpserver: HTTPServer, ctx: SourceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PURVIEW_TOKEN", "aad-SECRET")
    qn = "mssql://shop-srv.database.windows.net/shop/analytics/orders"
    version = {"api-version": "2023-09-01"}
    httpserver.expect_request(
        "/datamap/api/atlas/v2/entity/uniqueAttribute/type/azure_sql_table",
        query_string={"attr:qualifiedName": qn, **version},
        headers={"Authorization": "Bearer aad-SECRET"},
    ).respond_with_json(recorded(DATA, "SYNTHETIC-purview-entity-orders.json"))
    httpserver.expect_request(
        f"/datamap/api/atlas/v2/lineage/{G(101)}",
        query_string={"direction": "OUTPUT", "depth": "3", **version},
    ).respond_with_json(recorded(DATA, "SYNTHETIC-purview-lineage-orders.json"))
    source = spec(
        httpserver,
        username_env=None,
        password_env=None,
        token_env="PURVIEW_TOKEN",
        namespace=None,
        aliases={"mssql://shop-srv.database.windows.net": ""},
        options={
            "api_path": "datamap/api/atlas/v2",
            "api_version": "2023-09-01",
            "type_name": "azure_sql_table",
            "qualified_name": "mssql://shop-srv.database.windows.net/shop/{schema}/{table}",
        },
    )
    ctx.touched = {"analytics.orders"}
    fragment = fetch_one(source, ctx)
    assert fragment.status == "ok", fragment.detail
    copy = "atlas:process/https://adf.example/pipelines/export_orders/activities/copy"
    assert edges(fragment) == {
        ("analytics.orders", copy, "reads"),
        (copy, "export.orders_copy", "writes"),
    }


def test_429_is_retried_after_the_requested_wait(
    httpserver: HTTPServer, ctx: SourceContext
) -> None:
    serve(httpserver)
    busy_once(httpserver, ENTITY)
    fragment = fetch_one(spec(httpserver, options={"retries": 1}), ctx)
    assert fragment.status == "ok" and ("shop.orders", TRAIN, "reads") in edges(fragment)


def test_unknown_table_is_counted(httpserver: HTTPServer, ctx: SourceContext) -> None:
    httpserver.expect_request(ENTITY).respond_with_json(
        {"errorCode": "ATLAS-404-00-009", "errorMessage": "Instance hive_table with unique"},
        status=404,
    )
    fragment = fetch_one(spec(httpserver), ctx)
    assert fragment.status == "ok" and fragment.counts[UNKNOWN] == 1 and not fragment.edges


@pytest.mark.parametrize("fault", [f for f in FAULTS if f != "404"])
def test_faults_of_the_entity_lookup_fail_the_source(
    httpserver: HTTPServer, ctx: SourceContext, fault: str
) -> None:
    serve_fault(httpserver, ENTITY, fault)
    fragment = fetch_one(spec(httpserver, timeout=0.4), ctx)
    after_fault(httpserver, fault)
    assert fragment.status == "failed", fragment.detail
    assert httpserver.url_for(ENTITY) in fragment.detail and FAULT_TEXT[fault] in fragment.detail
    assert PASSWORD not in fragment.detail


@pytest.mark.parametrize("fault", ["500", "truncated", "oversized"])
def test_a_failed_column_walk_is_partial(
    httpserver: HTTPServer, ctx: SourceContext, fault: str
) -> None:
    serve_fault(httpserver, f"/api/atlas/v2/lineage/{G(12)}", fault)
    serve(httpserver)
    fragment = fetch_one(spec(httpserver), ctx)
    assert fragment.status == "partial" and G(12) in fragment.detail
    assert ("shop.orders", TRAIN, "reads") in edges(fragment)
    assert ("shop.orders#amount", TRAIN, "column") not in edges(fragment)


def test_a_bad_template_is_named(httpserver: HTTPServer, ctx: SourceContext) -> None:
    fragment = fetch_one(spec(httpserver, options={"qualified_name": "{cluster}"}), ctx)
    assert fragment.status == "failed" and "options.qualified_name" in fragment.detail
