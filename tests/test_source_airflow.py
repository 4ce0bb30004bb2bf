"""The Airflow source against a real local HTTP server serving answers recorded from a real
Airflow 3.3.2 (tests/data/airflow/recorded/, see the README there) and a SYNTHETIC Airflow 2
answer; the same source against the real Airflow is tests/airflow_live/test_airflow_live.py."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from impact_check.config import LineageSource
from impact_check.sources import fetch_one
from impact_check.sources.airflow import BEYOND_DEPTH, NO_RUN, NOT_RELATIONS, UNKNOWN
from impact_check.sources.base import SourceContext
from tests.sourcekit import (
    FAULT_TEXT,
    FAULTS,
    after_fault,
    edges,
    fault_options,
    json_response,
    node,
    serve_fault,
)
from tests.sourcekit import recorded as load

DATA = Path(__file__).parent / "data" / "airflow"
PASSWORD = "airflow-PW-secret-9"
JWT = "eyJ.recorded-shape.jwt-SECRET"
NS = "postgres://db:5432"
FEATURIZE = "airflow:train_churn/featurize"
COUNT = "airflow:order_counts/count_orders"
SCORE = "airflow:score_customers/score"
INSTANCES = {
    ("train_churn", "featurize"): "ti-train_churn-featurize.json",
    ("order_counts", "count_orders"): "ti-order_counts-count_orders.json",
    ("score_customers", "score"): "ti-score_customers-score.json",
}
FEATURIZE_SQL = (
    "INSERT INTO analytics.customer_features SELECT customer_id, SUM(amount) AS spend "
    "FROM analytics.orders WHERE ordered_at >= '2026-02-01' GROUP BY customer_id"
)


def recorded(name: str) -> Any:
    return load(DATA / "recorded", name)


class Airflow3:
    """An Airflow 3 API stand-in answering from the recordings; ``page_cap`` is the
    server's maximum_page_limit (Airflow silently caps ``limit`` at it)."""

    def __init__(self, server: HTTPServer, page_cap: int = 100) -> None:
        self.page_cap = page_cap
        self.asset_offsets: list[int] = []
        self.assets = recorded("assets-limit100-offset0.json")["assets"]
        server.expect_request("/auth/token", method="POST").respond_with_handler(self.token)
        server.expect_request("/api/v2/assets").respond_with_handler(self.list_assets)
        server.expect_request(
            re.compile(r"^/api/v2/dags/[^/]+/dagRuns/~/taskInstances$")
        ).respond_with_handler(self.instances)

    def token(self, request: Request) -> Response:
        body = request.get_json()
        if body != {"username": "impact", "password": PASSWORD}:
            return json_response({"detail": "Invalid credentials"}, 401)
        return json_response({"access_token": JWT}, 201)

    def _authorised(self, request: Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {JWT}"

    def list_assets(self, request: Request) -> Response:
        if not self._authorised(request):
            return json_response({"detail": "Not authenticated"}, 401)
        limit = min(int(request.args["limit"]), self.page_cap)
        offset = int(request.args["offset"])
        self.asset_offsets.append(offset)
        page = self.assets[offset : offset + limit]
        return json_response({"assets": page, "total_entries": len(self.assets)})

    def instances(self, request: Request) -> Response:
        if not self._authorised(request):
            return json_response({"detail": "Not authenticated"}, 401)
        dag = request.path.split("/")[4]
        assert request.args["order_by"] == "-run_after" and request.args["limit"] == "1"
        name = INSTANCES.get((dag, request.args["task_id"]))
        if name is None:  # never ran (the real server answers so for build_orders)
            return json_response({"task_instances": [], "total_entries": 0})
        return json_response(recorded(name))


def spec(server: HTTPServer, **kw: Any) -> LineageSource:
    options = {**fault_options(), "rendered_sql": True, **kw.pop("options", {})}
    params: dict[str, Any] = {
        "kind": "airflow",
        "location": server.url_for("/"),
        "username_env": "AIRFLOW_USER",
        "password_env": "AIRFLOW_PASSWORD",
        "aliases": {NS: ""},
        "timeout": 2.0,
        "options": options,
    }
    params.update(kw)
    return LineageSource(**params)


@pytest.fixture
def ctx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SourceContext:
    monkeypatch.setenv("AIRFLOW_USER", "impact")
    monkeypatch.setenv("AIRFLOW_PASSWORD", PASSWORD)
    return SourceContext(root=tmp_path, touched={"analytics.orders"})


def test_consuming_tasks_two_hops_and_their_rendered_sql(
    httpserver: HTTPServer, ctx: SourceContext
) -> None:
    Airflow3(httpserver)
    fragment = fetch_one(spec(httpserver), ctx)
    assert fragment.status == "ok", fragment.detail
    assert edges(fragment) == {
        ("analytics.orders", FEATURIZE, "reads"),
        ("analytics.orders", COUNT, "reads"),
        (FEATURIZE, "analytics.customer_features", "writes"),
        ("analytics.customer_features", SCORE, "reads"),
    }  # the loader upstream (build_orders.load) is no consumer
    featurize = node(fragment, FEATURIZE)
    assert featurize.kind == "job" and featurize.sql == FEATURIZE_SQL
    assert featurize.dialect == "postgres"
    assert featurize.url == httpserver.url_for("/dags/train_churn/tasks/featurize")
    assert node(fragment, COUNT).sql.startswith("SELECT customer_id, COUNT(*)")
    assert node(fragment, "analytics.orders").attrs["uri"] == f"{NS}/shop/analytics/orders"
    # a scheduled DAG whose task reads the asset is not a second consumer
    assert "airflow:train_churn" not in {n.id for n in fragment.nodes}
    assert JWT not in repr(fragment) and PASSWORD not in repr(fragment)


def test_depth_one_stops_at_the_first_consumers(httpserver: HTTPServer, ctx: SourceContext) -> None:
    Airflow3(httpserver)
    fragment = fetch_one(spec(httpserver, depth=1), ctx)
    assert SCORE not in {n.id for n in fragment.nodes}
    assert FEATURIZE in {n.id for n in fragment.nodes}
    assert fragment.counts[BEYOND_DEPTH] == 1


def test_pages_are_followed_to_total_entries(httpserver: HTTPServer, ctx: SourceContext) -> None:
    server = Airflow3(httpserver, page_cap=1)
    fragment = fetch_one(spec(httpserver), ctx)
    assert fragment.status == "ok" and server.asset_offsets == [0, 1]
    assert ("analytics.customer_features", SCORE, "reads") in edges(fragment)
    capped = fetch_one(spec(httpserver, options={"max_pages": 1}), ctx)
    assert capped.status == "partial" and "options.max_pages" in capped.detail


def test_without_alias_the_database_stays_in_the_name(
    httpserver: HTTPServer, ctx: SourceContext
) -> None:
    Airflow3(httpserver)
    fragment = fetch_one(spec(httpserver, aliases={}), ctx)  # matched on the last two parts
    assert ("shop.analytics.orders", FEATURIZE, "reads") in edges(fragment)


def test_a_task_that_never_ran_has_no_sql(httpserver: HTTPServer, ctx: SourceContext) -> None:
    server = Airflow3(httpserver)
    del INSTANCES[("order_counts", "count_orders")]
    try:
        fragment = fetch_one(spec(httpserver), ctx)
    finally:
        INSTANCES[("order_counts", "count_orders")] = "ti-order_counts-count_orders.json"
    assert node(fragment, COUNT).sql is None and fragment.counts[NO_RUN] == 1
    assert server.asset_offsets == [0]


def test_static_token_and_version_detection(
    httpserver: HTTPServer, ctx: SourceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    Airflow3(httpserver)
    monkeypatch.setenv("AIRFLOW_TOKEN", JWT)
    source = spec(httpserver, token_env="AIRFLOW_TOKEN", username_env=None, password_env=None)
    fragment = fetch_one(source, ctx)
    assert fragment.status == "ok" and FEATURIZE in {n.id for n in fragment.nodes}
    assert not [e for e, _ in httpserver.log if e.path == "/auth/token"]


def test_airflow_2_datasets_dag_level_with_basic_auth(
    httpserver: HTTPServer, ctx: SourceContext
) -> None:
    basic = "Basic " + base64.b64encode(f"impact:{PASSWORD}".encode()).decode()
    httpserver.expect_request("/auth/token", method="POST").respond_with_data("", status=404)
    httpserver.expect_request(
        "/api/v1/datasets",
        query_string={"limit": "100", "offset": "0"},
        headers={"Authorization": basic},
    ).respond_with_json(load(DATA, "SYNTHETIC-v1-datasets.json"))
    fragment = fetch_one(spec(httpserver), ctx)
    assert fragment.status == "ok", fragment.detail
    assert edges(fragment) == {
        ("analytics.orders", "airflow:train_churn", "reads"),
        ("airflow:train_churn", "analytics.customer_features", "writes"),
        ("analytics.customer_features", "airflow:score_customers", "reads"),
    }
    assert fragment.counts[NOT_RELATIONS] == 1  # the s3:// export
    assert all(n.sql is None for n in fragment.nodes)  # no rendered SQL from Airflow 2


@pytest.mark.parametrize("fault", FAULTS)
def test_faults_of_the_asset_list_fail_the_source_naming_the_url(
    httpserver: HTTPServer, ctx: SourceContext, fault: str
) -> None:
    httpserver.expect_request("/auth/token", method="POST").respond_with_json({"access_token": JWT})
    serve_fault(httpserver, "/api/v2/assets", fault)
    fragment = fetch_one(spec(httpserver, timeout=0.4), ctx)
    after_fault(httpserver, fault)
    url = httpserver.url_for("/api/v2/assets")  # the token exchange said: Airflow 3
    assert fragment.status == "failed", fragment.detail
    assert url in fragment.detail and FAULT_TEXT[fault] in fragment.detail
    assert JWT not in fragment.detail and PASSWORD not in fragment.detail


@pytest.mark.parametrize("fault", ["500", "timeout", "truncated", "403"])
def test_a_failed_rendered_sql_request_is_partial(
    httpserver: HTTPServer, ctx: SourceContext, fault: str
) -> None:
    Airflow3(httpserver)
    serve_fault(httpserver, "/api/v2/dags/train_churn/dagRuns/~/taskInstances", fault)
    httpserver.handlers.insert(0, httpserver.handlers.pop())  # before the stand-in's
    fragment = fetch_one(spec(httpserver, timeout=0.4), ctx)
    after_fault(httpserver, fault)
    assert fragment.status == "partial", fragment.detail
    assert "train_churn/dagRuns/~/taskInstances" in fragment.detail
    assert node(fragment, FEATURIZE).sql is None  # kept, table-level
    assert node(fragment, COUNT).sql is not None


def test_wrong_password_is_unauthorized(
    httpserver: HTTPServer, ctx: SourceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    Airflow3(httpserver)
    monkeypatch.setenv("AIRFLOW_PASSWORD", "wrong-PW-7")
    fragment = fetch_one(spec(httpserver), ctx)
    assert fragment.status == "failed"
    assert "auth/token" in fragment.detail and "unauthorized" in fragment.detail
    assert "wrong-PW-7" not in fragment.detail


def test_missing_credential_variable_is_named(
    httpserver: HTTPServer, ctx: SourceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AIRFLOW_PASSWORD")
    fragment = fetch_one(spec(httpserver), ctx)
    assert fragment.status == "failed" and "AIRFLOW_PASSWORD is not set" in fragment.detail


def test_429_is_retried_after_the_requested_wait(
    httpserver: HTTPServer, ctx: SourceContext
) -> None:
    server = Airflow3(httpserver)
    answered = []

    def busy_once(request: Request) -> Response:
        answered.append(request.path)
        if len(answered) == 1:
            return Response("slow down", status=429, headers={"Retry-After": "0"})
        return server.list_assets(request)

    httpserver.expect_request("/api/v2/assets").respond_with_handler(busy_once)
    httpserver.handlers.insert(0, httpserver.handlers.pop())  # before the stand-in's
    fragment = fetch_one(spec(httpserver, options={"retries": 1}), ctx)
    assert fragment.status == "ok", fragment.detail
    assert FEATURIZE in {n.id for n in fragment.nodes} and len(answered) == 2


def test_offline_answers_from_the_cache_without_a_token_exchange(
    httpserver: HTTPServer, ctx: SourceContext, tmp_path: Path
) -> None:
    Airflow3(httpserver)
    ctx.cache_dir = tmp_path / "cache"
    first = fetch_one(spec(httpserver), ctx)
    httpserver.clear()
    ctx.offline = True
    again = fetch_one(spec(httpserver), ctx)
    assert again.status == "cached" and edges(again) == edges(first)
    assert not httpserver.log
    cached = "".join(p.read_text() for p in (tmp_path / "cache").rglob("*.json"))
    assert JWT not in cached and PASSWORD not in cached  # the token answer is never cached


def test_unknown_table_is_counted(httpserver: HTTPServer, ctx: SourceContext) -> None:
    Airflow3(httpserver)
    ctx.touched = {"analytics.nothing"}
    fragment = fetch_one(spec(httpserver), ctx)
    assert fragment.status == "ok" and fragment.counts[UNKNOWN] == 1 and not fragment.edges
