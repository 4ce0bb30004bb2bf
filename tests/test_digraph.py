"""digraph.DiGraph and its algorithms answer exactly like networkx's (same order, same
sets) on random graphs: the lineage walks and the derivation order depend on it."""

from __future__ import annotations

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from impact_check.digraph import (
    DiGraph,
    bfs_edges,
    dfs_postorder,
    sink_generations,
    strongly_connected_components,
)

edge_lists = st.lists(st.tuples(st.integers(0, 14), st.integers(0, 14)), max_size=45)


def _both(edges: list[tuple[int, int]], nodes: int = 15) -> tuple[DiGraph[int], nx.DiGraph[int]]:
    ours: DiGraph[int] = DiGraph()
    theirs: nx.DiGraph[int] = nx.DiGraph()
    for n in range(nodes):
        ours.add_node(n)
        theirs.add_node(n)
    for src, dst in edges:
        ours.add_edge(src, dst, kind=f"{src}-{dst}")
        theirs.add_edge(src, dst, kind=f"{src}-{dst}")
    return ours, theirs


@settings(max_examples=200, deadline=None)
@given(edge_lists, st.integers(0, 14))
def test_breadth_first_edges_are_networkx_s(edges: list[tuple[int, int]], start: int) -> None:
    ours, theirs = _both(edges)
    expected = list(nx.generic_bfs_edges(theirs, start, theirs.successors))
    assert list(bfs_edges(start, ours.successors, len(ours))) == expected


@settings(max_examples=200, deadline=None)
@given(edge_lists)
def test_post_order_components_and_generations_are_networkx_s(
    edges: list[tuple[int, int]],
) -> None:
    ours, theirs = _both(edges)
    assert dfs_postorder(ours) == list(nx.dfs_postorder_nodes(theirs))
    assert sorted(map(sorted, strongly_connected_components(ours))) == sorted(
        map(sorted, nx.strongly_connected_components(theirs))
    )
    acyclic = [(a, b) for a, b in edges if a < b]
    ours, theirs = _both(acyclic)
    assert sink_generations(ours) == [
        set(g) for g in nx.topological_generations(theirs.reverse(copy=False))
    ]


@settings(max_examples=100, deadline=None)
@given(edge_lists, st.lists(st.tuples(st.integers(0, 14), st.integers(0, 14)), max_size=10))
def test_views_and_removals_match_networkx(
    edges: list[tuple[int, int]], removed: list[tuple[int, int]]
) -> None:
    ours, theirs = _both(edges)
    for src, dst in removed:
        if theirs.has_edge(src, dst):
            ours.remove_edge(src, dst)
            theirs.remove_edge(src, dst)
    ours.remove_node(3)
    theirs.remove_node(3)
    assert list(ours.nodes) == list(theirs.nodes) and len(ours) == len(theirs)
    assert list(ours.edges(data=True)) == list(theirs.edges(data=True))
    assert list(ours.edges(data="kind")) == list(theirs.edges(data="kind"))
    for node in theirs:
        assert list(ours.successors(node)) == list(theirs.successors(node))
        assert list(ours.predecessors(node)) == list(theirs.predecessors(node))
    for src, dst in edges:
        assert ours.has_edge(src, dst) == theirs.has_edge(src, dst)
        assert ours.get_edge_data(src, dst) == theirs.get_edge_data(src, dst)
    copy = ours.to_networkx()
    assert list(copy.edges(data=True)) == list(theirs.edges(data=True))
    assert list(copy.nodes(data=True)) == list(theirs.nodes(data=True))


def test_an_edge_s_attributes_are_one_dict_for_both_directions() -> None:
    graph: DiGraph[str] = DiGraph()
    graph.add_node("a", kind="table")
    graph.add_edge("a", "b", kind="reads")
    graph.edges["a", "b"]["kind"] = "star"
    assert graph.pred["b"]["a"] == {"kind": "star"} and graph.nodes["a"] == {"kind": "table"}
    graph.add_node("a", file="x.sql")  # attributes update, like networkx
    assert dict(graph.nodes(data=True))["a"] == {"kind": "table", "file": "x.sql"}
    built = DiGraph.from_dicts({"a": {}, "b": {}}, {("a", "b"): {"kind": "reads"}})
    assert built.succ["a"]["b"] is built.pred["b"]["a"]
