"""The dbt Cloud source against a real local HTTP server answering Discovery API GraphQL
with SYNTHETIC pages (tests/data/dbt_cloud/README.md): models of another project built on
this project's public model, their compiled SQL, and exposures downstream."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from impact_check.config import LineageSource
from impact_check.sources import fetch_one
from impact_check.sources.base import SourceContext
from impact_check.sources.dbt_cloud import BEYOND_DEPTH
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

DATA = Path(__file__).parent / "data" / "dbt_cloud"
TOKEN = "dbtc-SECRET-service-token"
DASH = "dbt_cloud:exposure/exposure.marketing.ltv_dashboard"
NOTEBOOK = "dbt_cloud:exposure/exposure.marketing.orders_notebook"


class Discovery:
    """The GraphQL endpoint: pages by query and cursor; environment 43 is forbidden."""

    def __init__(self, server: HTTPServer) -> None:
        self.variables: list[dict[str, Any]] = []
        server.expect_request("/graphql", method="POST").respond_with_handler(self)

    def __call__(self, request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return json_response({"errors": [{"message": "Unauthorized"}]}, 401)
        body = request.get_json()
        variables = body["variables"]
        self.variables.append(variables)
        assert variables["first"] == 500
        if variables["environmentId"] == 43:
            return json_response(recorded(DATA, "SYNTHETIC-error-environment.json"))
        if "impactCheckExposures" in body["query"]:
            return json_response(recorded(DATA, "SYNTHETIC-exposures.json"))
        page = "page2" if variables["after"] == "Y3Vyc29yOjI=" else "page1"
        return json_response(recorded(DATA, f"SYNTHETIC-models-{page}.json"))


def spec(server: HTTPServer, **kw: Any) -> LineageSource:
    options = {**fault_options(), "environments": [42], "dialect": "snowflake"}
    options.update(kw.pop("options", {}))
    params: dict[str, Any] = {
        "kind": "dbt_cloud",
        "location": server.url_for("/"),
        "token_env": "DBT_CLOUD_TOKEN",
        "aliases": {"prod": ""},
        "timeout": 2.0,
        "options": options,
    }
    params.update(kw)
    return LineageSource(**params)


@pytest.fixture
def ctx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SourceContext:
    monkeypatch.setenv("DBT_CLOUD_TOKEN", TOKEN)
    return SourceContext(root=tmp_path, touched={"analytics.orders"})


def test_mesh_models_their_compiled_sql_and_exposures(
    httpserver: HTTPServer, ctx: SourceContext
) -> None:
    api = Discovery(httpserver)
    fragment = fetch_one(spec(httpserver), ctx)
    assert fragment.status == "ok", fragment.detail
    assert edges(fragment) == {
        ("analytics.orders", "marketing.customer_ltv", "reads"),
        ("marketing.customer_ltv", "marketing.ltv_segments", "reads"),  # from the second page
        ("marketing.ltv_segments", DASH, "reads"),
        ("analytics.orders", NOTEBOOK, "reads"),  # an exposure on the public model itself
    }  # the campaigns model and its report do not descend from orders
    ltv = node(fragment, "marketing.customer_ltv")
    assert ltv.kind == "model" and ltv.dialect == "snowflake"
    assert ltv.sql == (
        "select customer_id, sum(amount) as ltv from prod.analytics.orders group by customer_id"
    )
    assert ltv.columns == {"customer_id": "NUMBER", "ltv": "NUMBER"}
    dash = node(fragment, DASH)
    assert dash.kind == "dashboard" and dash.owners == ["Growth team"]
    assert dash.url == "https://bi.example/dashboards/ltv"
    assert node(fragment, NOTEBOOK).kind == "notebook"
    models = [v for v in api.variables if v["environmentId"] == 42]
    assert [v["after"] for v in models] == [None, "Y3Vyc29yOjI=", None]  # 2 pages + exposures


def test_depth_one(httpserver: HTTPServer, ctx: SourceContext) -> None:
    Discovery(httpserver)
    fragment = fetch_one(spec(httpserver, depth=1), ctx)
    assert "marketing.ltv_segments" not in {n.id for n in fragment.nodes}
    assert fragment.counts[BEYOND_DEPTH] == 1


def test_an_environment_the_token_cannot_read_is_partial(
    httpserver: HTTPServer, ctx: SourceContext
) -> None:
    Discovery(httpserver)
    fragment = fetch_one(spec(httpserver, options={"environments": [42, 43]}), ctx)
    assert fragment.status == "partial" and "environment 43" in fragment.detail
    assert ("analytics.orders", "marketing.customer_ltv", "reads") in edges(fragment)


def test_429_is_retried_after_the_requested_wait(
    httpserver: HTTPServer, ctx: SourceContext
) -> None:
    Discovery(httpserver)
    busy_once(httpserver, "/graphql", method="POST")
    fragment = fetch_one(spec(httpserver, options={"retries": 1}), ctx)
    assert fragment.status == "ok" and DASH in {n.id for n in fragment.nodes}


def test_environments_are_required(httpserver: HTTPServer, ctx: SourceContext) -> None:
    fragment = fetch_one(spec(httpserver, options={"environments": ["prod"]}), ctx)
    assert fragment.status == "failed" and "options.environments" in fragment.detail


def test_page_cap_is_partial(httpserver: HTTPServer, ctx: SourceContext) -> None:
    Discovery(httpserver)
    fragment = fetch_one(spec(httpserver, options={"max_pages": 1}), ctx)
    assert fragment.status == "partial" and "options.max_pages" in fragment.detail


@pytest.mark.parametrize("fault", FAULTS)
def test_faults_fail_the_source_naming_the_url(
    httpserver: HTTPServer, ctx: SourceContext, fault: str
) -> None:
    serve_fault(httpserver, "/graphql", fault, method="POST")
    fragment = fetch_one(spec(httpserver, timeout=0.4), ctx)
    after_fault(httpserver, fault)
    assert fragment.status == "failed", fragment.detail
    assert httpserver.url_for("/graphql") in fragment.detail
    assert FAULT_TEXT[fault] in fragment.detail and TOKEN not in fragment.detail
