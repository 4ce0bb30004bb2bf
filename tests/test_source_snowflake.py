"""The Snowflake source against a real local HTTP server speaking the SQL API with SYNTHETIC
answers (tests/data/snowflake/README.md): dependent views with their DDL, and the readers
of the touched columns from ACCESS_HISTORY."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from impact_check.config import LineageSource
from impact_check.sources import fetch_one
from impact_check.sources.base import SourceContext
from impact_check.sources.snowflake import BEYOND_DEPTH, Names, snowflake_name
from tests.sourcekit import (
    FAULT_TEXT,
    FAULTS,
    after_fault,
    busy_once,
    edges,
    fault_options,
    json_response,
    node,
    recorded,
    serve_fault,
)

DATA = Path(__file__).parent / "data" / "snowflake"
TOKEN = "sf-pat-SECRET-42"
LOOKER = "snowflake:reader/LOOKER_SVC/REPORTER/looker"
JANE = "snowflake:reader/JANE_DOE/ANALYST/-"
ETL = "snowflake:reader/ETL_SVC/TRANSFORMER/dbt"
COUNTS = "reporting.OrderCounts"  # quoted in Snowflake: case kept


def payload(name: str) -> Any:
    return recorded(DATA, name)


class SqlApi:
    """``POST /api/v2/statements`` answered by what the statement asks, with the bindings
    checked; ACCESS_HISTORY runs asynchronously and comes in two partitions."""

    def __init__(self, server: HTTPServer, readers_error: bool = False) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.readers_error = readers_error
        server.expect_request("/api/v2/statements", method="POST").respond_with_handler(self.post)
        server.expect_request("/api/v2/statements/01b8-readers").respond_with_handler(self.poll)

    def _denied(self, request: Request) -> Response | None:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return json_response({"code": "390303", "message": "Invalid OAuth access token."}, 401)
        kind = request.headers.get("X-Snowflake-Authorization-Token-Type")
        assert kind == "PROGRAMMATIC_ACCESS_TOKEN"
        return None

    def post(self, request: Request) -> Response:
        denied = self._denied(request)
        if denied:
            return denied
        body = request.get_json()
        self.bodies.append(body)
        assert body["warehouse"] == "LINEAGE_WH" and body["role"] == "IMPACT_READER"
        binds = [
            b["value"] for _k, b in sorted(body["bindings"].items(), key=lambda kv: int(kv[0]))
        ]
        sql = body["statement"]
        if "object_dependencies" in sql:
            name = {
                ("SHOP.ANALYTICS.ORDERS",): "dependencies-orders",
                ("SHOP.REPORTING.OrderCounts", "SHOP.REPORTING.REVENUE"): "dependencies-revenue",
            }.get(tuple(binds), "dependencies-none")
        elif "GET_DDL" in sql:
            name = "ddl-" + binds[0].rsplit(".", 1)[1].strip('"')
        else:
            assert "access_history" in sql and binds == ["30", "SHOP.ANALYTICS.ORDERS"]
            if self.readers_error:
                return json_response(payload("SYNTHETIC-error-not-authorized.json"), 422)
            return json_response(payload("SYNTHETIC-readers-running.json"), 202)
        return json_response(payload(f"SYNTHETIC-{name}.json"))

    def poll(self, request: Request) -> Response:
        denied = self._denied(request)
        if denied:
            return denied
        part = request.args.get("partition")
        return json_response(payload(f"SYNTHETIC-readers-partition{part or 0}.json"))


def spec(server: HTTPServer, **kw: Any) -> LineageSource:
    options = {
        **fault_options(),
        "database": "shop",
        "warehouse": "LINEAGE_WH",
        "role": "IMPACT_READER",
        "token_type": "PROGRAMMATIC_ACCESS_TOKEN",
        **kw.pop("options", {}),
    }
    params: dict[str, Any] = {
        "kind": "snowflake",
        "location": server.url_for("/"),
        "token_env": "SNOWFLAKE_TOKEN",
        "aliases": {"shop": ""},
        "timeout": 2.0,
        "options": options,
    }
    params.update(kw)
    return LineageSource(**params)


@pytest.fixture
def ctx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SourceContext:
    monkeypatch.setenv("SNOWFLAKE_TOKEN", TOKEN)
    return SourceContext(root=tmp_path, touched={"analytics.orders"})


def test_names_fold_like_snowflake() -> None:
    assert snowflake_name('shop.analytics."Orders"') == 'SHOP.ANALYTICS."Orders"'
    assert snowflake_name("shop.analytics.Orders") == 'SHOP.ANALYTICS."Orders"'
    names = Names({"shop": ""})
    assert names.dotted("SHOP.ANALYTICS.ORDERS") == "analytics.orders"
    assert names.dotted("SHOP.REPORTING.OrderCounts") == COUNTS
    assert Names({}).dotted("SHOP.ANALYTICS.ORDERS") == "shop.analytics.orders"


def test_dependent_views_with_ddl_and_readers_with_user_role_tag(
    httpserver: HTTPServer, ctx: SourceContext
) -> None:
    api = SqlApi(httpserver)
    fragment = fetch_one(spec(httpserver), ctx)
    assert fragment.status == "ok", fragment.detail
    assert edges(fragment) == {
        ("analytics.orders", "reporting.revenue", "reads"),
        ("analytics.orders", COUNTS, "reads"),
        ("reporting.revenue", "reporting.revenue_eu", "reads"),
        ("analytics.orders#amount", LOOKER, "column"),
        ("analytics.orders#id", LOOKER, "column"),
        ("analytics.orders#status", JANE, "column"),  # from the second partition
        ("analytics.orders", ETL, "reads"),  # a read without columns (COUNT(*))
    }
    revenue = node(fragment, "reporting.revenue")
    assert revenue.kind == "view" and revenue.dialect == "snowflake"
    assert "amount * 1.2 AS gross FROM shop.analytics.orders" in revenue.sql
    assert node(fragment, COUNTS).sql.startswith(
        'create or replace view SHOP.REPORTING."OrderCounts"'
    )
    looker = node(fragment, LOOKER)
    assert looker.attrs["user"] == "LOOKER_SVC" and looker.attrs["role"] == "REPORTER"
    assert looker.attrs["query_tag"] == "looker" and looker.attrs["queries"] == 24
    assert looker.name == "LOOKER_SVC (role REPORTER, query tag looker)"
    # names are bind variables, never spliced into the SQL
    assert all("ORDERS" not in b["statement"] for b in api.bodies)
    ddl = [b for b in api.bodies if "GET_DDL" in b["statement"]]
    assert sorted(b["bindings"]["1"]["value"] for b in ddl) == [
        '"SHOP"."REPORTING"."OrderCounts"',
        '"SHOP"."REPORTING"."REVENUE"',
        '"SHOP"."REPORTING"."REVENUE_EU"',
    ]


def test_a_quoted_table_is_looked_up_by_its_stored_name(
    httpserver: HTTPServer, ctx: SourceContext
) -> None:
    api = SqlApi(httpserver)
    ctx.touched = {"analytics.Orders"}  # canonical: capitals mean it was quoted
    fetch_one(spec(httpserver, options={"access_history": False}), ctx)
    (body,) = api.bodies
    assert body["bindings"]["1"]["value"] == "SHOP.ANALYTICS.Orders"


def test_depth_bounds_the_dependency_walk(httpserver: HTTPServer, ctx: SourceContext) -> None:
    SqlApi(httpserver)
    fragment = fetch_one(spec(httpserver, depth=1, options={"access_history": False}), ctx)
    assert "reporting.revenue_eu" not in {n.id for n in fragment.nodes}
    assert fragment.counts[BEYOND_DEPTH] == 2


def test_sql_error_of_one_statement_is_partial(httpserver: HTTPServer, ctx: SourceContext) -> None:
    SqlApi(httpserver, readers_error=True)
    fragment = fetch_one(spec(httpserver), ctx)
    assert fragment.status == "partial" and "HTTP 422" in fragment.detail
    assert ("analytics.orders", "reporting.revenue", "reads") in edges(fragment)


def test_429_is_retried_after_the_requested_wait(
    httpserver: HTTPServer, ctx: SourceContext
) -> None:
    api = SqlApi(httpserver)
    busy_once(httpserver, "/api/v2/statements", method="POST")
    fragment = fetch_one(spec(httpserver, options={"retries": 1}), ctx)
    assert fragment.status == "ok", fragment.detail
    assert ("analytics.orders", "reporting.revenue", "reads") in edges(fragment)
    posts = [r for r, _ in httpserver.log if r.method == "POST"]
    assert len(posts) == len(api.bodies) + 1  # the rate-limited request was sent again


def test_wrong_token_is_unauthorized(
    httpserver: HTTPServer, ctx: SourceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    SqlApi(httpserver)
    monkeypatch.setenv("SNOWFLAKE_TOKEN", "sf-wrong-77")
    fragment = fetch_one(spec(httpserver), ctx)
    assert fragment.status == "failed" and "unauthorized" in fragment.detail
    assert "sf-wrong-77" not in fragment.detail


@pytest.mark.parametrize("fault", FAULTS)
def test_faults_of_the_sql_api_fail_the_source(
    httpserver: HTTPServer, ctx: SourceContext, fault: str
) -> None:
    serve_fault(httpserver, "/api/v2/statements", fault, method="POST")
    fragment = fetch_one(spec(httpserver, timeout=0.4), ctx)
    after_fault(httpserver, fault)
    assert fragment.status == "failed", fragment.detail
    assert httpserver.url_for("/api/v2/statements") in fragment.detail
    assert FAULT_TEXT[fault] in fragment.detail and TOKEN not in fragment.detail


def test_last_good_result_serves_offline(
    httpserver: HTTPServer, ctx: SourceContext, tmp_path: Path
) -> None:
    SqlApi(httpserver)
    ctx.cache_dir = tmp_path / "cache"
    first = fetch_one(spec(httpserver), ctx)
    httpserver.clear()
    ctx.offline = True
    again = fetch_one(spec(httpserver), ctx)
    assert again.status == "cached" and edges(again) == edges(first) and not httpserver.log
    cached = "".join(p.read_text() for p in (tmp_path / "cache").rglob("*.json"))
    assert TOKEN not in cached
