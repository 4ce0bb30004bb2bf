"""The Marquez source against a real local HTTP server serving Marquez payloads.

Payloads: tests/data/marquez/ (copies of ../shared/fixtures/marquez and SYNTHETIC ones
built from the server code, see the README there).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from impact_check.config import LineageSource
from impact_check.sources import fetch_one
from impact_check.sources.base import GraphFragment, SourceContext
from impact_check.sources.marquez import (
    BEYOND_DEPTH,
    UNKNOWN,
    MarquezGraph,
    NodeRef,
    build_fragment,
    parse_node_id,
)

DATA = Path(__file__).parent / "data" / "marquez"
NS = "postgres://db.example:5432"
ORDERS = f"dataset:{NS}:analytics.public.orders"
TOKEN = "mz-SECRET-77"


def payload(name: str) -> Any:
    return json.loads((DATA / name).read_text())["response"]


def edges(fragment: GraphFragment) -> set[tuple[str, str, str]]:
    return {(e.src, e.dst, e.kind) for e in fragment.edges}


def ids(fragment: GraphFragment) -> set[str]:
    return {n.id for n in fragment.nodes}


# ------------------------------------------------------------------ pure parsing


@pytest.mark.parametrize(
    ("value", "ref"),
    [
        (
            "dataset:food_delivery:public.delivery_7_days",
            NodeRef("dataset", "food_delivery", "public.delivery_7_days"),
        ),
        (
            f"dataset:{NS}:analytics.public.orders",
            NodeRef("dataset", NS, "analytics.public.orders"),
        ),
        ("job:airflow:etl.orders_daily", NodeRef("job", "airflow", "etl.orders_daily")),
        (
            "datasetField:duckdb://jaffle.duckdb:jaffle.main.customers:customer_lifetime_value",
            NodeRef(
                "datasetField",
                "duckdb://jaffle.duckdb",
                "jaffle.main.customers",
                "customer_lifetime_value",
            ),
        ),
        (
            "datasetField:snowflake://matillion.eu-central-1:FROSTY_BORG.ETLD.Do11yJiraIssues:Assignee",
            NodeRef(
                "datasetField",
                "snowflake://matillion.eu-central-1",
                "FROSTY_BORG.ETLD.Do11yJiraIssues",
                "Assignee",
            ),
        ),
        (
            f"dataset:{NS}:analytics.public.orders#5b7c2a9e-1111-4c2b-9d0e-000000000001",
            NodeRef("dataset", NS, "analytics.public.orders"),
        ),
        ("run:5b7c2a9e-1111-4c2b-9d0e-000000000001", None),
    ],
)
def test_node_ids_split_as_marquez_does(value: str, ref: NodeRef | None) -> None:
    assert parse_node_id(value) == ref


def test_column_direction_comes_from_input_fields_not_edges() -> None:
    # Marquez's own test resource: its edges point columnA -> columnC, its data says
    # columnA is computed from columnB. Only the data is trusted.
    graph = MarquezGraph()
    graph.add_column_lineage({"graph": [payload_raw("api-test-column_lineage-node.json")]})
    fragment = build_fragment(
        graph, {("namespace", "otherDataset")}, 5, {}, GraphFragment("m", "marquez")
    )
    assert edges(fragment) == {("otherdataset#columnB", "otherdataset#columnA", "projection")}


def payload_raw(name: str) -> Any:
    return json.loads((DATA / name).read_text())


def test_upstream_answer_is_walked_downstream_only() -> None:
    graph = MarquezGraph()
    graph.add_column_lineage(payload("SYNTHETIC-column-lineage-response.json"))
    aliases = {"duckdb://jaffle.duckdb": ""}
    start = {("duckdb://jaffle.duckdb", "jaffle.main.customers")}
    fragment = build_fragment(graph, start, 5, aliases, GraphFragment("m", "marquez"))
    assert edges(fragment) == {
        (
            "main.customers#customer_lifetime_value",
            "main.customer_features#lifetime_value",
            "projection",
        )
    }
    start = {("duckdb://jaffle.duckdb", "jaffle.main.stg_payments")}
    fragment = build_fragment(graph, start, 1, aliases, GraphFragment("m", "marquez"))
    assert edges(fragment) == {
        ("main.stg_payments#amount", "main.customers#customer_lifetime_value", "projection")
    }
    assert fragment.counts[BEYOND_DEPTH] >= 1


def test_dataset_node_of_the_lineage_endpoint() -> None:
    graph = MarquezGraph()
    graph.add_lineage({"graph": [payload_raw("api-test-lineage-node.json")]})
    fragment = build_fragment(
        graph, {("namespace", "commonDataset")}, 5, {}, GraphFragment("m", "marquez")
    )
    (node,) = fragment.nodes
    assert node.id == "commondataset" and list(node.columns) == [
        "firstname",
        "lastname",
        "birthdate",
    ]
    assert node.attrs["marquez_id"] == "dataset:namespace:commonDataset"


# ------------------------------------------------------------------ over HTTP


def serve(server: HTTPServer, depth: int = 5, token: bool = False) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"} if token else None
    server.expect_request(
        "/api/v1/search",
        query_string={"q": "orders", "filter": "dataset", "limit": "100"},
        headers=headers,
    ).respond_with_json(payload("SYNTHETIC-search-orders.json"))
    server.expect_request(
        "/api/v1/lineage", query_string={"nodeId": ORDERS, "depth": str(depth)}, headers=headers
    ).respond_with_json(payload("SYNTHETIC-lineage-orders.json"))
    server.expect_request(
        "/api/v1/column-lineage",
        query_string={"nodeId": ORDERS, "depth": str(depth), "withDownstream": "true"},
        headers=headers,
    ).respond_with_json(payload("SYNTHETIC-column-lineage-orders-downstream.json"))


def spec(server: HTTPServer, **kw: Any) -> LineageSource:
    options = {"retries": 1, "backoff": 0.01, "connect_timeout": 1.0, **kw.pop("options", {})}
    params: dict[str, Any] = {
        "kind": "marquez",
        "location": server.url_for("/"),
        "aliases": {NS: ""},
        "timeout": 2.0,
        "options": options,
    }
    params.update(kw)
    return LineageSource(**params)


def context(tmp_path: Path, touched: set[str] | None = None, **kw: Any) -> SourceContext:
    return SourceContext(
        root=tmp_path, touched={"public.orders"} if touched is None else touched, **kw
    )


def test_downstream_jobs_datasets_and_columns(httpserver: HTTPServer, tmp_path: Path) -> None:
    serve(httpserver)
    fragment = fetch_one(spec(httpserver), context(tmp_path))
    assert fragment.status == "ok", fragment.detail
    assert ids(fragment) == {
        "public.orders",
        "public.orders_daily",
        "public.daily_export",
        "marquez:airflow/etl.orders_daily",
        "marquez:reporting/export_daily",
    }  # the upstream loader job and its source are not downstream
    assert edges(fragment) == {
        ("public.orders", "marquez:airflow/etl.orders_daily", "reads"),
        ("marquez:airflow/etl.orders_daily", "public.orders_daily", "writes"),
        ("public.orders_daily", "marquez:reporting/export_daily", "reads"),
        ("marquez:reporting/export_daily", "public.daily_export", "writes"),
        ("public.orders#amount", "public.orders_daily#total", "projection"),
        ("public.orders#amount", "marquez:airflow/etl.orders_daily", "column"),
        ("public.orders_daily#total", "public.daily_export#total", "projection"),
        ("public.orders_daily#total", "marquez:reporting/export_daily", "column"),
    }
    job = next(n for n in fragment.nodes if n.id == "marquez:airflow/etl.orders_daily")
    assert job.kind == "job" and job.url == "https://git.example/etl/orders_daily.py"
    daily = next(n for n in fragment.nodes if n.id == "public.orders_daily")
    assert daily.columns == {"day": "DATE", "total": "NUMERIC"}


def test_without_alias_names_keep_the_catalog(httpserver: HTTPServer, tmp_path: Path) -> None:
    serve(httpserver)
    fragment = fetch_one(spec(httpserver, aliases={}), context(tmp_path))
    assert "analytics.public.orders_daily" in ids(fragment)  # matched by suffix in the merge


def test_depth_bounds_the_request_and_the_walk(httpserver: HTTPServer, tmp_path: Path) -> None:
    serve(httpserver, depth=1)
    fragment = fetch_one(spec(httpserver, depth=1), context(tmp_path))
    assert fragment.status == "ok"
    assert "marquez:airflow/etl.orders_daily" in ids(fragment)
    assert "marquez:reporting/export_daily" not in ids(fragment)
    assert ("public.orders_daily#total", "public.daily_export#total", "projection") not in edges(
        fragment
    )
    assert fragment.counts[BEYOND_DEPTH] >= 1


def test_bearer_token_from_the_environment(
    httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MARQUEZ_TOKEN", TOKEN)
    serve(httpserver, token=True)
    fragment = fetch_one(spec(httpserver, token_env="MARQUEZ_TOKEN"), context(tmp_path))
    assert fragment.status == "ok" and len(fragment.nodes) == 5


@pytest.mark.parametrize(
    ("status", "text"), [(401, "unauthorized"), (403, "forbidden"), (404, "not found")]
)
def test_client_errors_fail_the_source_naming_the_url(
    httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, status: int, text: str
) -> None:
    monkeypatch.setenv("MARQUEZ_TOKEN", TOKEN)
    httpserver.expect_request("/api/v1/search").respond_with_data("no", status=status)
    fragment = fetch_one(spec(httpserver, token_env="MARQUEZ_TOKEN"), context(tmp_path))
    assert fragment.status == "failed"
    assert httpserver.url_for("/api/v1/search") in fragment.detail and text in fragment.detail
    assert TOKEN not in fragment.detail


def test_server_error_on_one_endpoint_is_partial(httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request("/api/v1/search").respond_with_json(
        payload("SYNTHETIC-search-orders.json")
    )
    httpserver.expect_request("/api/v1/lineage").respond_with_data("boom", status=500)
    httpserver.expect_request("/api/v1/column-lineage").respond_with_json(
        payload("SYNTHETIC-column-lineage-orders-downstream.json")
    )
    fragment = fetch_one(spec(httpserver), context(tmp_path))
    assert fragment.status == "partial"
    assert (
        httpserver.url_for("/api/v1/lineage") in fragment.detail and "HTTP 500" in fragment.detail
    )
    # what the other endpoint said is kept
    assert ("public.orders#amount", "public.orders_daily#total", "projection") in edges(fragment)


def test_429_is_retried_after_the_requested_wait(httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_ordered_request("/api/v1/search").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "0"}
    )
    serve(httpserver)
    fragment = fetch_one(spec(httpserver), context(tmp_path))
    assert fragment.status == "ok" and len(fragment.nodes) == 5


def _slow(request: Request) -> Response:
    time.sleep(1.2)
    return Response(
        json.dumps(payload("SYNTHETIC-lineage-orders.json")), content_type="application/json"
    )


@pytest.mark.parametrize(
    ("body", "text"),
    [
        (b'{"graph": [{"id": "dataset:', "not JSON"),
        (b"<html><body>Bad gateway</body></html>", "not JSON (text/html"),
        (b'{"error": "no graph"}', "no 'graph' list"),
        (None, "timed out"),
        (b'{"graph": [' + b'{"id": "x"},' * 30_000 + b'{"id": "x"}]}', "larger than"),
    ],
)
def test_bad_lineage_answers_are_partial_with_the_url(
    httpserver: HTTPServer, tmp_path: Path, body: bytes | None, text: str
) -> None:
    httpserver.expect_request("/api/v1/search").respond_with_json(
        payload("SYNTHETIC-search-orders.json")
    )
    if body is None:
        httpserver.expect_request("/api/v1/lineage").respond_with_handler(_slow)
    else:
        httpserver.expect_request("/api/v1/lineage").respond_with_data(
            body, content_type="text/html" if body.startswith(b"<") else "application/json"
        )
    httpserver.expect_request("/api/v1/column-lineage").respond_with_json(
        payload("SYNTHETIC-column-lineage-orders-downstream.json")
    )
    source = spec(httpserver, timeout=0.4, options={"retries": 0, "max_response_bytes": 200_000})
    fragment = fetch_one(source, context(tmp_path))
    if body is None:
        time.sleep(1.0)  # the single-threaded server is still in the slow handler
    assert fragment.status == "partial", fragment.detail
    assert "/api/v1/lineage" in fragment.detail and text in fragment.detail


def test_redirects_are_followed(httpserver: HTTPServer, tmp_path: Path) -> None:
    serve(httpserver)

    def moved(request: Request) -> Response:
        target = request.full_path.replace("/old", "", 1).rstrip("?")
        return Response("", status=308, headers={"Location": httpserver.url_for(target)})

    import re

    httpserver.expect_request(re.compile("^/old/")).respond_with_handler(moved)
    fragment = fetch_one(spec(httpserver, location=httpserver.url_for("/old")), context(tmp_path))
    assert fragment.status == "ok" and len(fragment.nodes) == 5


def test_unknown_dataset_is_counted_not_an_error(httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request("/api/v1/search").respond_with_json({"totalCount": 0, "results": []})
    fragment = fetch_one(spec(httpserver), context(tmp_path, {"public.nothing"}))
    assert fragment.status == "ok" and fragment.counts[UNKNOWN] == 1 and not fragment.nodes


def test_nothing_touched_is_skipped_without_requests(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    fragment = fetch_one(spec(httpserver), context(tmp_path, set()))
    assert fragment.status == "skipped" and not httpserver.log


def test_last_good_answer_serves_offline(httpserver: HTTPServer, tmp_path: Path) -> None:
    serve(httpserver)
    first = fetch_one(spec(httpserver), context(tmp_path, cache_dir=tmp_path / "cache"))
    httpserver.clear()
    offline = fetch_one(
        spec(httpserver), context(tmp_path, cache_dir=tmp_path / "cache", offline=True)
    )
    assert offline.status == "cached" and ids(offline) == ids(first)
    assert not httpserver.log
    never_cached = fetch_one(spec(httpserver), context(tmp_path, offline=True))
    assert never_cached.status == "failed" and "offline" in never_cached.detail


def test_unreachable_server_fails_naming_it(tmp_path: Path) -> None:
    source = LineageSource(
        kind="marquez", location="http://127.0.0.1:9", timeout=0.5, options={"retries": 0}
    )
    fragment = fetch_one(source, context(tmp_path))
    assert fragment.status == "failed" and "http://127.0.0.1:9/api/v1/search" in fragment.detail
