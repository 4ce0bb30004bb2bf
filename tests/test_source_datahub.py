"""The DataHub sources: GraphQL against a real local HTTP server serving DataHub payloads,
and the MCP/MCE files that ``datahub ingest`` writes with a file sink.

Payloads: tests/data/datahub/ (real file-sink output copied from ../shared/fixtures/datahub
and SYNTHETIC GraphQL answers built from the schema, see the README there).
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
from impact_check.sources.datahub import (
    BEYOND_DEPTH,
    UNKNOWN_PLATFORM,
    Builder,
    Names,
    add_results,
    degree_values,
    field_path,
    parse_urn,
)
from impact_check.sources.datahub_file import aspect_name, build

DATA = Path(__file__).parent / "data" / "datahub"
TOKEN = "dh-pat-SECRET-1234"
ORD = "urn:li:dataset:(urn:li:dataPlatform:postgres,analytics.public.orders,PROD)"
AMOUNT = f"urn:li:schemaField:({ORD},amount)"
DASH = "datahub:dashboard/looker/dashboards.finance_kpis"
CHART = "datahub:chart/looker/looks.revenue_by_day"
EXEC = "datahub:dashboard/looker/dashboards.exec_overview"
FEATURE = "datahub:feature/shop.order_features/order_amount"
FEATURE_VIEW = "datahub:feature_view/feast/shop.order_features"
MODEL = "datahub:ml_model/mlflow/churn_model_3"


def payload(name: str) -> Any:
    return json.loads((DATA / name).read_text())["response"]


def edges(fragment: GraphFragment) -> set[tuple[str, str, str]]:
    return {(e.src, e.dst, e.kind) for e in fragment.edges}


def node(fragment: GraphFragment, node_id: str) -> Any:
    return next(n for n in fragment.nodes if n.id == node_id)


# ------------------------------------------------------------------ pure parsing


def test_urns_and_field_paths() -> None:
    urn = parse_urn(AMOUNT)
    assert urn is not None and urn.entity == "schemaField" and urn.parts == (ORD, "amount")
    assert field_path("[version=2.0].[type=struct].address.[type=string].zip") == "address.zip"
    names = Names({"postgres": "warehouse"})
    assert names.dataset(ORD) == "warehouse.public.orders"
    assert names.node(AMOUNT) == "warehouse.public.orders#amount"
    assert Names({}).dataset(ORD) == "analytics.public.orders"
    assert names.node("urn:li:mlModel:(urn:li:dataPlatform:mlflow,churn_model_3,PROD)") == MODEL
    assert names.dataset("urn:li:dataset:(urn:li:dataPlatform:unknown,unknown,PROD)") is None
    assert degree_values(1) == ["1"] and degree_values(2) == ["1", "2"]
    assert degree_values(5) == ["1", "2", "3+"]


def test_schema_field_walk_of_the_shared_fixture() -> None:
    names = Names({"dbt": "", "duckdb": ""})
    builder = Builder(names, GraphFragment("d", "datahub"))
    answer = payload("SYNTHETIC-scrollAcrossLineage-schemaField-downstream.json")
    results = answer["data"]["scrollAcrossLineage"]["searchResults"]
    payments = "urn:li:dataset:(urn:li:dataPlatform:duckdb,jaffle.main.stg_payments,PROD)"
    start = f"urn:li:schemaField:({payments},amount)"
    add_results(builder, start, results, depth=3)
    assert edges(builder.finish()) == {
        ("main.stg_payments#amount", "main.customers#customer_lifetime_value", "projection"),
        (
            "main.customers#customer_lifetime_value",
            "main.customer_features#lifetime_value",
            "projection",
        ),
    }


# ------------------------------------------------------------------ GraphQL over HTTP


class GraphQL:
    """A GMS stand-in: answers by the query and its variables, records the requests."""

    def __init__(self, server: HTTPServer, token: str | None = TOKEN) -> None:
        self.requests: list[dict[str, Any]] = []
        self.token = token
        self.overrides: dict[str, Any] = {}
        server.expect_request("/api/graphql", method="POST").respond_with_handler(self)

    def __call__(self, request: Request) -> Response:
        if self.token and request.headers.get("Authorization") != f"Bearer {self.token}":
            return Response("unauthorized", status=401)
        body = request.get_json()
        self.requests.append(body)
        variables = body["variables"]["input"]
        if "searchAcrossEntities" in body["query"]:
            key = "search"
            answer = payload("SYNTHETIC-searchAcrossEntities-orders.json")
        elif variables["urn"] == ORD and variables.get("scrollId") == "c2Nyb2xsLTI=":
            key, answer = "page2", payload("SYNTHETIC-scrollAcrossLineage-orders-page2.json")
        elif variables["urn"] == ORD:
            key, answer = "page1", payload("SYNTHETIC-scrollAcrossLineage-orders-page1.json")
        elif variables["urn"] == AMOUNT:
            key, answer = "amount", payload("SYNTHETIC-scrollAcrossLineage-orders-amount.json")
        else:
            key, answer = "empty", payload("SYNTHETIC-scrollAcrossLineage-empty.json")
        override = self.overrides.get(key)
        if callable(override):
            return override(request)  # type: ignore[no-any-return]
        if override is not None:
            return Response(override, content_type="application/json")
        return Response(json.dumps(answer), content_type="application/json")


def spec(server: HTTPServer, **kw: Any) -> LineageSource:
    options = {"retries": 0, "backoff": 0.01, "connect_timeout": 1.0, **kw.pop("options", {})}
    params: dict[str, Any] = {
        "kind": "datahub",
        "location": server.url_for("/"),
        "token_env": "DATAHUB_TOKEN",
        "aliases": {"postgres": ""},
        "depth": 3,
        "timeout": 2.0,
        "options": options,
    }
    params.update(kw)
    return LineageSource(**params)


@pytest.fixture
def ctx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SourceContext:
    monkeypatch.setenv("DATAHUB_TOKEN", TOKEN)
    return SourceContext(root=tmp_path, touched={"public.orders"})


def test_downstream_walk_pages_columns_consumers_and_owners(
    httpserver: HTTPServer, ctx: SourceContext
) -> None:
    gms = GraphQL(httpserver)
    fragment = fetch_one(spec(httpserver, options={"frontend_url": "https://datahub.example"}), ctx)
    assert fragment.status == "ok", fragment.detail
    got = edges(fragment)
    assert {
        # fineGrainedLineages of the downstream dataset (page 1)
        ("public.orders#amount", "public.orders_enriched#amount_usd", "projection"),
        ("public.orders#id", "public.orders_enriched#id", "projection"),
        # a chart reading a column through inputFields (page 2: pagination was followed)
        ("public.orders_enriched#amount_usd", CHART, "column"),
        (CHART, EXEC, "reads"),
        # the column walk: a dashboard consuming orders.amount, a QUERY hop bridged over
        ("public.orders#amount", DASH, "column"),
        # ML: feature -> feature table -> model
        ("public.orders", FEATURE, "reads"),
        (FEATURE, FEATURE_VIEW, "reads"),
        (FEATURE_VIEW, MODEL, "reads"),
    } <= got
    # the table-level edge is dropped where column lineage says more
    assert ("public.orders", "public.orders_enriched", "reads") not in got
    # degree 4 is beyond depth 3
    assert "datahub:dashboard/looker/dashboards.board_pack" not in {n.id for n in fragment.nodes}
    assert fragment.counts[BEYOND_DEPTH] == 1
    dash = node(fragment, DASH)
    assert dash.kind == "dashboard" and dash.owners == ["finance"] and dash.name == "Finance KPIs"
    assert dash.url == "https://looker.example/dashboards/42"
    assert dash.attrs["urn"] == "urn:li:dashboard:(looker,dashboards.finance_kpis)"
    assert node(fragment, EXEC).url.startswith(
        "https://datahub.example/dashboard/urn%3Ali%3Adashboard"
    )
    assert (
        node(fragment, MODEL).kind == "ml_model"
        and node(fragment, FEATURE_VIEW).kind == "feature_view"
    )
    assert node(fragment, "public.orders_enriched").owners == ["data-eng"]
    # requests: one search, two pages from the dataset, one walk per column of orders
    walks = [r["variables"]["input"] for r in gms.requests if "scrollAcrossLineage" in r["query"]]
    assert sorted(w["urn"] for w in walks) == sorted(
        [ORD, ORD] + [f"urn:li:schemaField:({ORD},{c})" for c in ("id", "amount", "note")]
    )
    degree = walks[0]["orFilters"][0]["and"][0]
    assert degree == {"field": "degree", "condition": "EQUAL", "values": ["1", "2", "3+"]}
    column_walk = next(w for w in walks if w["urn"] == AMOUNT)
    assert (
        column_walk["searchFlags"]["groupingSpec"]["groupingCriteria"]["baseEntityType"]
        == "SCHEMA_FIELD"
    )


def test_depth_one_asks_for_degree_one_and_drops_the_rest(
    httpserver: HTTPServer, ctx: SourceContext
) -> None:
    gms = GraphQL(httpserver)
    fragment = fetch_one(spec(httpserver, depth=1), ctx)
    walks = [r["variables"]["input"] for r in gms.requests if "scrollAcrossLineage" in r["query"]]
    assert all(w["orFilters"][0]["and"][0]["values"] == ["1"] for w in walks)
    ids = {n.id for n in fragment.nodes}
    assert DASH in ids and FEATURE in ids  # degree 1
    assert CHART not in ids and MODEL not in ids  # the server answered them anyway
    assert fragment.counts[BEYOND_DEPTH] == 5  # degrees 2, 2, 3, 3, 4 of page 2


def test_page_cap_is_partial(httpserver: HTTPServer, ctx: SourceContext) -> None:
    GraphQL(httpserver)
    fragment = fetch_one(spec(httpserver, options={"max_pages": 1}), ctx)
    assert fragment.status == "partial" and "more than 1 pages" in fragment.detail
    assert FEATURE in {n.id for n in fragment.nodes}  # the first page is kept


def test_graphql_errors_name_the_url(httpserver: HTTPServer, ctx: SourceContext) -> None:
    gms = GraphQL(httpserver)
    gms.overrides["page1"] = json.dumps(
        {
            "errors": [{"message": "Validation error of type FieldUndefined: fineGrainedLineages"}],
            "data": None,
        }
    )
    fragment = fetch_one(spec(httpserver), ctx)
    assert fragment.status == "partial"
    assert (
        httpserver.url_for("/api/graphql") in fragment.detail
        and "FieldUndefined" in fragment.detail
    )
    assert ("public.orders#amount", DASH, "column") in edges(fragment)  # the column walks


@pytest.mark.parametrize(
    ("status", "text"), [(401, "unauthorized"), (403, "forbidden"), (404, "not found")]
)
def test_client_errors_fail_naming_the_url_not_the_token(
    httpserver: HTTPServer, ctx: SourceContext, status: int, text: str
) -> None:
    httpserver.expect_request("/api/graphql").respond_with_data("no", status=status)
    fragment = fetch_one(spec(httpserver), ctx)
    assert fragment.status == "failed"
    assert httpserver.url_for("/api/graphql") in fragment.detail and text in fragment.detail
    assert TOKEN not in fragment.detail


def test_missing_token_variable_is_named(httpserver: HTTPServer, tmp_path: Path) -> None:
    fragment = fetch_one(
        spec(httpserver, token_env="DH_NOT_SET"), SourceContext(tmp_path, {"public.orders"})
    )
    assert fragment.status == "failed" and "DH_NOT_SET" in fragment.detail


def _slow(request: Request) -> Response:
    time.sleep(1.2)
    return Response(json.dumps(payload("SYNTHETIC-scrollAcrossLineage-orders-amount.json")))


@pytest.mark.parametrize(
    ("answer", "text"),
    [
        (b'{"data": {"scrollAcrossLineage": {"nextScr', "not JSON"),
        (b"<html>504 Gateway Time-out</html>", "not JSON"),
        (_slow, "timed out"),
        (
            b'{"data": {"scrollAcrossLineage": {"searchResults": ['
            + b'{"degree": 1},' * 40_000
            + b"{}]}}}",
            "larger than",
        ),
        ("500", "HTTP 500"),
    ],
)
def test_bad_answers_to_a_column_walk_are_partial(
    httpserver: HTTPServer, ctx: SourceContext, answer: Any, text: str
) -> None:
    gms = GraphQL(httpserver)
    if answer == "500":
        gms.overrides["amount"] = lambda request: Response("boom", status=500)
    else:
        gms.overrides["amount"] = answer
    source = spec(
        httpserver, timeout=0.5, options={"max_response_bytes": 300_000, "max_concurrency": 1}
    )
    fragment = fetch_one(source, ctx)
    if answer is _slow:
        time.sleep(1.0)  # the single-threaded server is still in the slow handler
    assert fragment.status == "partial", fragment.detail
    assert httpserver.url_for("/api/graphql") in fragment.detail and text in fragment.detail
    assert ("public.orders_enriched#amount_usd", CHART, "column") in edges(fragment)


def test_429_with_retry_after_then_answers(httpserver: HTTPServer, ctx: SourceContext) -> None:
    httpserver.expect_ordered_request("/api/graphql").respond_with_data(
        "later", status=429, headers={"Retry-After": "0"}
    )
    GraphQL(httpserver)
    fragment = fetch_one(spec(httpserver, options={"retries": 2}), ctx)
    assert fragment.status == "ok" and DASH in {n.id for n in fragment.nodes}


def test_redirect_to_the_graphql_endpoint_is_followed(
    httpserver: HTTPServer, ctx: SourceContext
) -> None:
    httpserver.expect_request("/gms/api/graphql", method="POST").respond_with_data(
        "", status=308, headers={"Location": httpserver.url_for("/api/graphql")}
    )
    GraphQL(httpserver)
    fragment = fetch_one(spec(httpserver, location=httpserver.url_for("/gms")), ctx)
    assert fragment.status == "ok" and DASH in {n.id for n in fragment.nodes}


def test_unknown_dataset_and_nothing_touched(
    httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATAHUB_TOKEN", TOKEN)
    GraphQL(httpserver)
    fragment = fetch_one(spec(httpserver), SourceContext(tmp_path, {"public.customers"}))
    assert (
        fragment.status == "ok" and fragment.counts["touched datasets DataHub does not know"] == 1
    )
    skipped = fetch_one(spec(httpserver), SourceContext(tmp_path, set()))
    assert skipped.status == "skipped"


# ------------------------------------------------------------------ MCP/MCE files


def file_source(name: str, **kw: Any) -> GraphFragment:
    source = LineageSource(kind="datahub-file", location=str(DATA / name), **kw)
    return fetch_one(source, SourceContext(Path(".")))


def test_dbt_ingestion_file_column_lineage_siblings_and_exposures() -> None:
    fragment = file_source(
        "dbt-source-mcps.acryl-datahub-1.7.0.17.json", aliases={"dbt": "", "duckdb": ""}
    )
    assert fragment.status == "ok"
    got = edges(fragment)
    # computed by DataHub's parser through the select-* CTEs, with catalog schema
    assert (
        "main.stg_payments#amount",
        "main.customers#customer_lifetime_value",
        "projection",
    ) in got
    assert (
        "main.customer_features",
        "datahub:dashboard/dbt/exposure.jaffle_shop.churn_model",
        "reads",
    ) in got
    # the dbt and duckdb siblings are one relation: no self edges from the PATCH copies
    assert not [e for e in fragment.edges if e.src == e.dst]
    churn = node(fragment, "datahub:dashboard/dbt/exposure.jaffle_shop.churn_model")
    assert (
        churn.owners == ["ml@example.com"]
        and churn.url == "http://mlflow.example/#/models/churn_model"
    )
    assert node(fragment, "main.customer_features").columns["lifetime_value"] == "DOUBLE"


def test_mlflow_and_feast_ingestion_files() -> None:
    mlflow = file_source("mlflow-source-mcps.acryl-datahub-1.7.0.17.json")
    run = "datahub:job/1953225d7f6d0777793988cb58be636a"
    assert {
        ("analytics.customer_features", run, "reads"),
        (run, "datahub:ml_model/mlflow/churn_model_1", "writes"),
    } <= edges(mlflow)
    assert "segment" in node(mlflow, "analytics.customer_features").columns
    feast = file_source("feast-source-mcps.acryl-datahub-1.7.0.17.json")
    assert (
        "datahub:feature/demo049.customer_features/lifetime_value",
        "datahub:feature_view/feast/demo049.customer_features",
        "reads",
    ) in edges(feast)
    # PostgreSQLSource is recorded as urn:li:dataset:(…unknown,unknown…): skipped, counted
    assert feast.counts[UNKNOWN_PLATFORM] == 4


def test_patch_removed_entities_and_bad_records() -> None:
    dash = "urn:li:dashboard:(looker,d1)"
    records = [
        {
            "entityUrn": dash,
            "entityType": "dashboard",
            "changeType": "UPSERT",
            "aspectName": "inputFields",
            "aspect": {"json": {"fields": [{"schemaFieldUrn": AMOUNT}]}},
        },
        {
            "entityUrn": "urn:li:chart:(looker,gone)",
            "entityType": "chart",
            "changeType": "UPSERT",
            "aspectName": "chartInfo",
            "aspect": {"json": {"inputs": [ORD]}},
        },
        {
            "entityUrn": "urn:li:chart:(looker,gone)",
            "entityType": "chart",
            "changeType": "UPSERT",
            "aspectName": "status",
            "aspect": {"json": {"removed": True}},
        },
        "not a record",
    ]
    fragment = build(records, Names({"postgres": ""}), GraphFragment("f", "datahub-file"))
    assert edges(fragment) == {("public.orders#amount", "datahub:dashboard/looker/d1", "column")}
    assert fragment.counts == {"removed entities skipped": 1, "unreadable records skipped": 1}
    assert (
        aspect_name("com.linkedin.pegasus2avro.ml.metadata.MLFeatureProperties")
        == "mlFeatureProperties"
    )
    assert aspect_name("com.linkedin.pegasus2avro.dataset.UpstreamLineage") == "upstreamLineage"


def test_missing_or_broken_file_is_reported(tmp_path: Path) -> None:
    missing = fetch_one(
        LineageSource(kind="datahub-file", location=str(tmp_path / "nope.json")),
        SourceContext(tmp_path),
    )
    assert missing.status == "failed" and "nope.json" in missing.detail
    broken = tmp_path / "mcps.json"
    broken.write_text('[{"entityUrn": "urn:li:dataset:(urn:li:dataPlatform:postgres,a.b,PROD)"')
    fragment = fetch_one(
        LineageSource(kind="datahub-file", location=str(broken)), SourceContext(tmp_path)
    )
    assert fragment.status == "partial" and "mcps.json:1" in fragment.detail
