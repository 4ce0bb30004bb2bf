"""LineageGraph: the domain walk over digraph.DiGraph (binds edges stop, ``has`` not
followed backwards, depth in dataset hops) and reach along chosen edge kinds."""

from __future__ import annotations

import networkx as nx

from impact_check.graph import LineageGraph


def _graph() -> LineageGraph:
    graph = LineageGraph()
    for src, dst, kind in [
        ("raw.t", "raw.t#a", "has"),
        ("raw.t", "raw.t#b", "has"),
        ("raw.t#a", "v1#x", "projection"),
        ("v1", "v1#x", "has"),
        ("v1#x", "v2#y", "projection"),
        ("v2", "v2#y", "has"),
        ("raw.t#b", "v3", "binds"),  # a CTE column v3's output leaves out
        ("v3", "v4", "reads"),
        ("raw.t#a", "v5", "clause:where"),
        ("v5", "v6", "reads"),
    ]:
        graph.add_edge(src, dst, kind)
    return graph


def test_hands_networkx_a_copy_for_its_algorithms() -> None:
    graph = _graph()
    copy = graph.g.to_networkx()
    assert isinstance(copy, nx.DiGraph)
    assert nx.shortest_path(copy, "raw.t", "v2#y") == ["raw.t", "raw.t#a", "v1#x", "v2#y"]
    assert graph.edge_kind("raw.t#a", "v1#x") == "projection"
    assert graph.edge_kind("v1#x", "raw.t#a") is None
    assert graph.columns_of("raw.t") == ["raw.t#a", "raw.t#b"]


def test_walk_gives_shortest_paths_and_stops_at_a_binds_edge() -> None:
    paths = _graph().walk("raw.t")
    assert paths["v2#y"] == ["raw.t", "raw.t#a", "v1#x", "v2#y"]
    assert paths["v3"] == ["raw.t", "raw.t#b", "v3"]  # reached…
    assert "v4" not in paths  # …but not passed: v3's rows and values do not change
    assert paths["v6"] == ["raw.t", "raw.t#a", "v5", "v6"]  # a clause passes rows on


def test_walk_depth_counts_dataset_hops_and_upstream_skips_has() -> None:
    graph = _graph()
    one = graph.walk("raw.t#a", depth=1)
    assert "v1#x" in one and "v5" in one and "v2#y" not in one and "v6" not in one
    up = graph.walk("v2#y", forward=False)
    assert up["raw.t#a"] == ["v2#y", "v1#x", "raw.t#a"]
    assert "v2" not in up and "raw.t#b" not in up  # not the whole table's columns


def test_reach_follows_only_the_kinds_given() -> None:
    graph = _graph()
    assert graph.reach(["raw.t#a"], ["projection"]) == {"raw.t#a", "v1#x", "v2#y"}
    assert graph.reach(["raw.t#b"], ["projection"]) == {"raw.t#b"}


def test_an_empty_graph_has_no_directed_graph_yet() -> None:
    graph = LineageGraph()
    assert "x" not in graph and len(graph) == 0 and graph.attrs("x") == {}
    assert graph._g is None


def test_dataset_order_waves_and_cycles() -> None:
    from impact_check.graph import dataset_order

    reads = {"c": ["b", "a"], "a": [], "b": ["a", "raw.t"], "d": ["a"], "e": ["e"]}
    order = dataset_order(reads)
    assert order.ordered == ["a", "b", "c", "d", "e"]
    assert order.waves == [["a", "e"], ["b", "d"], ["c"]]
    assert order.cycles == []
    looped = dataset_order({"x": ["y"], "y": ["z"], "z": ["x"], "w": ["x"], "v": []})
    assert looped.cycles == [["z", "y", "x"]]
    assert looped.ordered == ["z", "y", "x", "w", "v"]
    assert looped.waves == [[n] for n in looped.ordered]  # one by one, in that order
