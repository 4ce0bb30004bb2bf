"""The Unity Catalog source against a real local HTTP server serving SYNTHETIC answers of
the lineage REST API, the tables API and the SQL Statement Execution API (system tables),
built from Databricks' documented shapes (tests/data/unity_catalog/README.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from impact_check.config import LineageSource
from impact_check.sources import fetch_one
from impact_check.sources.base import SourceContext
from impact_check.sources.unity_catalog import BEYOND_DEPTH, NO_CATALOG
from tests.sourcekit import (
    FAULT_TEXT,
    FAULTS,
    after_fault,
    edges,
    fault_options,
    json_response,
    node,
    recorded,
    serve_fault,
)

DATA = Path(__file__).parent / "data" / "unity_catalog"
TOKEN = "dapi-SECRET-0123456789"
WS = "6051921418418893"
NOTEBOOK = f"unity_catalog:notebook/{WS}/1111169262439324"
JOB = f"unity_catalog:job/{WS}/222"
DASHBOARD = f"unity_catalog:dashboardv3/{WS}/01ef6b1c2d3e4f50"
QUERY = f"unity_catalog:query/{WS}/5e1c0a2b-77f4-4b8e-9a61-0c3d2e1f4a5b"
SHORT = {"main.sales.orders": "orders", "main.reporting.revenue": "revenue"}
SHORT["main.ml.order_features"] = "order_features"


def payload(name: str) -> Any:
    return recorded(DATA, name)


class Workspace:
    """The REST endpoints: answers by table (and column), with the bearer token checked."""

    def __init__(self, server: HTTPServer) -> None:
        self.asked: list[str] = []
        server.expect_request("/api/2.0/lineage-tracking/table-lineage").respond_with_handler(
            self.tables
        )
        server.expect_request("/api/2.0/lineage-tracking/column-lineage").respond_with_handler(
            self.columns
        )
        for full in SHORT:
            server.expect_request(f"/api/2.1/unity-catalog/tables/{full}").respond_with_handler(
                self.table
            )

    def _denied(self, request: Request) -> Response | None:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return json_response({"error_code": "PERMISSION_DENIED"}, 403)
        return None

    def table(self, request: Request) -> Response:
        denied = self._denied(request)
        short = SHORT[request.path.rsplit("/", 1)[-1]]
        return denied or json_response(payload(f"SYNTHETIC-tables-{short}.json"))

    def tables(self, request: Request) -> Response:
        denied = self._denied(request)
        if denied:
            return denied
        assert request.args["include_entity_lineage"] == "true"
        name = request.args["table_name"]
        self.asked.append(name)
        short = SHORT.get(name)
        return json_response(payload(f"SYNTHETIC-table-lineage-{short}.json") if short else {})

    def columns(self, request: Request) -> Response:
        denied = self._denied(request)
        if denied:
            return denied
        table, column = request.args["table_name"], request.args["column_name"]
        name = f"SYNTHETIC-column-lineage-{SHORT.get(table)}-{column}.json"
        return json_response(payload(name) if (DATA / name).exists() else {})


def spec(server: HTTPServer, **kw: Any) -> LineageSource:
    options = {**fault_options(), "catalog": "main", **kw.pop("options", {})}
    params: dict[str, Any] = {
        "kind": "unity_catalog",
        "location": server.url_for("/"),
        "token_env": "DATABRICKS_TOKEN",
        "aliases": {"main": ""},
        "timeout": 2.0,
        "options": options,
    }
    params.update(kw)
    return LineageSource(**params)


@pytest.fixture
def ctx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SourceContext:
    monkeypatch.setenv("DATABRICKS_TOKEN", TOKEN)
    return SourceContext(root=tmp_path, touched={"sales.orders"})


EXPECTED = {
    ("sales.orders", NOTEBOOK, "reads"),
    ("sales.orders", DASHBOARD, "reads"),
    ("sales.orders", JOB, "reads"),
    (JOB, "ml.order_features", "writes"),
    ("reporting.revenue", QUERY, "reads"),
    ("sales.orders#amount", "reporting.revenue#gross", "projection"),
    ("sales.orders#id", "reporting.revenue#id", "projection"),
    ("sales.orders#amount", "ml.order_features#amount_7d", "projection"),
    ("sales.orders#id", "ml.order_features#order_id", "projection"),
    ("sales.orders#amount", JOB, "column"),
    ("sales.orders#id", JOB, "column"),
}


def test_rest_tables_columns_entities_and_view_definitions(
    httpserver: HTTPServer, ctx: SourceContext
) -> None:
    workspace = Workspace(httpserver)
    fragment = fetch_one(spec(httpserver), ctx)
    assert fragment.status == "ok", fragment.detail
    assert edges(fragment) == EXPECTED  # orders -> revenue at table level: said by columns
    revenue = node(fragment, "reporting.revenue")
    assert revenue.kind == "view" and revenue.dialect == "databricks"
    assert revenue.sql == "SELECT id, amount * 1.2 AS gross FROM main.sales.orders"
    assert revenue.columns == {"id": "bigint", "gross": "decimal(12,3)"}
    assert node(fragment, "sales.orders").columns["amount"] == "decimal(10,2)"
    assert node(fragment, NOTEBOOK).kind == "notebook" and node(fragment, QUERY).kind == "query"
    assert node(fragment, DASHBOARD).kind == "dashboard"
    assert "raw.orders_landing" not in {n.id for n in fragment.nodes}  # upstream
    assert sorted(workspace.asked) == sorted(SHORT)  # one hop at a time


def test_depth_one(httpserver: HTTPServer, ctx: SourceContext) -> None:
    Workspace(httpserver)
    fragment = fetch_one(spec(httpserver, depth=1), ctx)
    assert QUERY not in {n.id for n in fragment.nodes} and fragment.counts[BEYOND_DEPTH] >= 1


def test_a_name_without_catalog_needs_options_catalog(
    httpserver: HTTPServer, ctx: SourceContext
) -> None:
    fragment = fetch_one(spec(httpserver, options={"catalog": None}), ctx)
    assert fragment.counts[NO_CATALOG] == 1 and not fragment.edges and not httpserver.log


@pytest.mark.parametrize("fault", FAULTS)
def test_faults_of_table_lineage_fail_the_source(
    httpserver: HTTPServer, ctx: SourceContext, fault: str
) -> None:
    serve_fault(httpserver, "/api/2.0/lineage-tracking/table-lineage", fault)
    serve_fault(httpserver, "/api/2.1/unity-catalog/tables/main.sales.orders", fault)
    fragment = fetch_one(spec(httpserver, timeout=0.4), ctx)
    after_fault(httpserver, fault)
    assert fragment.status == "failed", fragment.detail
    assert "/api/2.0/lineage-tracking/table-lineage" in fragment.detail
    assert FAULT_TEXT[fault] in fragment.detail and TOKEN not in fragment.detail


@pytest.mark.parametrize("fault", ["500", "timeout", "html"])
def test_a_failed_column_lineage_request_is_partial(
    httpserver: HTTPServer, ctx: SourceContext, fault: str
) -> None:
    serve_fault(httpserver, "/api/2.0/lineage-tracking/column-lineage", fault)
    Workspace(httpserver)
    fragment = fetch_one(spec(httpserver, timeout=0.4), ctx)
    after_fault(httpserver, fault)
    assert fragment.status == "partial" and "column-lineage" in fragment.detail
    assert ("sales.orders", JOB, "reads") in edges(fragment)  # table-level still known


def test_wrong_token_is_forbidden(
    httpserver: HTTPServer, ctx: SourceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    Workspace(httpserver)
    monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-wrong-1")
    fragment = fetch_one(spec(httpserver), ctx)
    assert fragment.status == "failed" and "forbidden" in fragment.detail


def test_429_then_answers(httpserver: HTTPServer, ctx: SourceContext) -> None:
    workspace = Workspace(httpserver)
    calls: list[int] = []

    def busy_once(request: Request) -> Response:
        calls.append(1)
        if len(calls) == 1:
            return Response("", status=429, headers={"Retry-After": "0"})
        return workspace.tables(request)

    httpserver.expect_request("/api/2.0/lineage-tracking/table-lineage").respond_with_handler(
        busy_once
    )
    httpserver.handlers.insert(0, httpserver.handlers.pop())
    fragment = fetch_one(spec(httpserver, options={"retries": 1}), ctx)
    assert fragment.status == "ok" and edges(fragment) == EXPECTED


# ------------------------------------------------------------------ system tables


class Warehouse:
    """The Statement Execution API: the first statement is pending, then polled; its
    result comes in two chunks; statements are told apart by table and parameters."""

    def __init__(self, server: HTTPServer, fail: bool = False) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.fail = fail
        server.expect_request("/api/2.0/sql/statements", method="POST").respond_with_handler(
            self.post
        )
        server.expect_request("/api/2.0/sql/statements/01ef-stmt-table-1").respond_with_json(
            payload("SYNTHETIC-statement-table_lineage-succeeded.json")
        )
        server.expect_request(
            "/api/2.0/sql/statements/01ef-stmt-table-1/result/chunks/1"
        ).respond_with_json(payload("SYNTHETIC-statement-table_lineage-chunk1.json"))

    def post(self, request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return json_response({"error_code": "PERMISSION_DENIED"}, 403)
        body = request.get_json()
        self.bodies.append(body)
        if self.fail:
            return json_response(payload("SYNTHETIC-statement-failed.json"))
        assert body["warehouse_id"] == "wh-42" and body["disposition"] == "INLINE"
        tables = [p["value"] for p in body["parameters"] if p["name"].startswith("t")]
        column = "system.access.column_lineage" in body["statement"]
        if tables == ["main.sales.orders"]:
            name = "column_lineage" if column else "table_lineage-pending"
        elif tables == ["main.ml.order_features", "main.reporting.revenue"] and not column:
            name = "table_lineage-hop2"
        else:
            name = "empty"
        return json_response(payload(f"SYNTHETIC-statement-{name}.json"))


def test_system_tables_rows_with_polling_and_chunks(
    httpserver: HTTPServer, ctx: SourceContext
) -> None:
    warehouse = Warehouse(httpserver)
    fragment = fetch_one(spec(httpserver, options={"warehouse_id": "wh-42", "days": 30}), ctx)
    assert fragment.status == "ok", fragment.detail
    dashboard = f"unity_catalog:dashboard_v3/{WS}/01ef6b1c2d3e4f50"
    query = f"unity_catalog:dbsql_query/{WS}/5e1c0a2b-77f4-4b8e-9a61-0c3d2e1f4a5b"
    expected = {(s, d, k) for s, d, k in EXPECTED if s != "reporting.revenue"}
    expected = {(s, dashboard if d == DASHBOARD else d, k) for s, d, k in expected} | {
        ("reporting.revenue", query, "reads")
    }
    assert edges(fragment) == expected
    assert node(fragment, query).kind == "query" and node(fragment, dashboard).kind == "dashboard"
    first = warehouse.bodies[0]
    # names and the window are parameters, never spliced into the statement
    assert "main.sales.orders" not in first["statement"] and ":t0" in first["statement"]
    assert {"name": "days", "value": "30", "type": "INT"} in first["parameters"]
    assert len(warehouse.bodies) == 4  # table + column statements per hop; hop 2 ends it


def test_a_failed_statement_fails_the_source_with_its_message(
    httpserver: HTTPServer, ctx: SourceContext
) -> None:
    Warehouse(httpserver, fail=True)
    fragment = fetch_one(spec(httpserver, options={"warehouse_id": "wh-42"}), ctx)
    assert fragment.status == "failed"
    assert "statement FAILED" in fragment.detail and "USE SCHEMA" in fragment.detail


@pytest.mark.parametrize("fault", ["401", "503", "truncated", "oversized"])
def test_faults_of_the_statement_api(
    httpserver: HTTPServer, ctx: SourceContext, fault: str
) -> None:
    serve_fault(httpserver, "/api/2.0/sql/statements", fault, method="POST")
    fragment = fetch_one(spec(httpserver, options={"warehouse_id": "wh-42"}), ctx)
    assert fragment.status == "failed" and "/api/2.0/sql/statements" in fragment.detail
    assert FAULT_TEXT[fault] in fragment.detail and TOKEN not in fragment.detail
