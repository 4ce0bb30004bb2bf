"""Names of the catalog systems mapped onto canonical relation names (identity.py) and the
shared walking helpers of their sources (sources/collect.py): pure functions."""

from __future__ import annotations

import pytest

from impact_check.identity import canonical_in, upper_case_folded, uri_relation
from impact_check.sources.base import GraphFragment
from impact_check.sources.collect import Collector, walk_hops, with_prefix


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        (
            "postgres://db:5432/shop/analytics/orders",
            ("postgres://db:5432", "shop.analytics.orders"),
        ),
        ("mysql://h:3306/shop/orders", ("mysql://h:3306", "shop.orders")),
        ("bigquery://proj/ds/orders", ("bigquery", "proj.ds.orders")),
        ("snowflake://acct/SHOP/ANALYTICS/ORDERS", ("snowflake://acct", "SHOP.ANALYTICS.ORDERS")),
        ("trino://h:8080/hive/sales/orders", ("trino://h:8080", "hive.sales.orders")),
        ("postgres://db/shop/public/my%2Etable", ("postgres://db", 'shop.public."my.table"')),
        ("s3://bucket/orders/", None),
        ("file:///tmp/orders.csv", None),
        ("postgres://db:5432/orders", None),  # one part names no table
        ("analytics.orders", None),
    ],
)
def test_asset_uris(uri: str, expected: tuple[str, str] | None) -> None:
    assert uri_relation(uri) == expected


def test_aliases_by_namespace_then_scheme() -> None:
    name = "shop.analytics.orders"
    assert canonical_in(name, ("postgres://db:5432", "postgres"), {"postgres": ""}) == (
        "analytics.orders"
    )
    assert canonical_in(name, ("postgres://db:5432", "postgres"), {}) == name
    both = {"postgres://db:5432": "wh", "postgres": ""}
    assert canonical_in(name, ("postgres://db:5432", "postgres"), both) == "wh.analytics.orders"


def test_upper_case_identifiers_fold_and_others_stay_quoted() -> None:
    assert upper_case_folded("ORDERS") == "orders"
    assert upper_case_folded("OrderCounts") == '"OrderCounts"'
    assert upper_case_folded('"Mixed"') == '"Mixed"'
    assert upper_case_folded("ORDERS_2024") == "orders_2024"


def test_leading_parts_from_the_prefix() -> None:
    assert with_prefix("analytics.orders", "pg.shop", 4) == "pg.shop.analytics.orders"
    assert with_prefix("shop.analytics.orders", "pg.shop", 4) == "pg.shop.analytics.orders"
    assert with_prefix("sales.orders", "main", 3) == "main.sales.orders"
    assert with_prefix("main.sales.orders", None, 3) == "main.sales.orders"
    assert with_prefix("orders", "main", 3) is None


def test_walk_hops_stops_at_depth_and_counts_the_rest() -> None:
    graph = {"a": ["b"], "b": ["c", "a"], "c": ["d"]}
    fragment = GraphFragment("t", "test")
    asked: list[list[str]] = []

    def step(frontier: list[str]) -> list[str]:
        asked.append(frontier)
        return [n for f in frontier for n in graph.get(f, [])]

    assert walk_hops(["a"], 2, step, fragment, "beyond") == {"a", "b"}
    assert asked == [["a"], ["b"]] and fragment.counts == {"beyond": 1}  # c not asked
    assert walk_hops(["a"], 10, step, GraphFragment("t", "test"), "beyond") == {"a", "b", "c", "d"}


def test_collector_keeps_one_node_and_the_most_precise_edge() -> None:
    out = Collector(GraphFragment("t", "test"), "test")
    out.node("s.t", "table", name="t")
    out.node("s.t", "view", url="https://x", columns={"a": None}, sql="SELECT 1", dialect="duckdb")
    out.node("s.t", "table", columns={"a": "INT"}, sql="SELECT 2")
    out.edge("s.t", "x:consumer", "reads")
    out.edge("s.t#a", "s.u#a", "projection")
    out.edge("s.t", "s.u", "reads")  # covered by the projection: dropped
    out.edge("s.t", "x:consumer", "writes")  # a more precise kind wins
    fragment = out.finish()
    (node,) = fragment.nodes
    assert (node.kind, node.name, node.url, node.sql) == ("table", "t", "https://x", "SELECT 1")
    assert node.columns == {"a": "INT"}
    assert {(e.src, e.dst, e.kind) for e in fragment.edges} == {
        ("s.t", "x:consumer", "writes"),
        ("s.t#a", "s.u#a", "projection"),
    }
