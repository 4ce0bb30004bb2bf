"""``downstream`` / ``upstream`` / ``graph``: walk the lineage graph of one revision."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

from impact_check import git
from impact_check.check import graph_at
from impact_check.config import Config
from impact_check.errors import UsageError
from impact_check.graph import LineageGraph
from impact_check.model import column_id, split_node_id


def resolve_node(graph: LineageGraph, text: str) -> str:
    """Accept ``relation``, ``relation#column`` or ``relation.column`` (relation known)."""
    if text in graph:
        return text
    lowered = text.lower()
    if lowered in graph:
        return lowered
    if "#" not in text and "." in text:
        relation, _, column = text.rpartition(".")
        for rel, col in ((relation, column), (relation.lower(), column.lower())):
            if column_id(rel, col) in graph:
                return column_id(rel, col)
    suffix = [n for n in graph.datasets() if n.endswith("." + lowered)]
    if len(suffix) == 1:
        return suffix[0]
    raise UsageError(f"unknown node {text!r}: not a relation or column of the lineage graph")


def trace(
    root: Path,
    config: Config,
    node: str,
    forward: bool,
    depth: int | None,
    rev: str | None,
    output_format: str,
) -> str:
    """The nodes reachable from ``node``, with the path to each, in the requested format."""
    graph = graph_at(root, git.resolve(root, rev) if rev else git.WORKTREE, config)
    start = resolve_node(graph, node)
    paths = graph.walk(start, forward=forward, depth=depth)
    reached = {n: p for n, p in paths.items() if n != start and not _own_column(start, n)}
    if output_format == "json":
        return (
            json.dumps(
                {
                    "node": start,
                    "direction": "downstream" if forward else "upstream",
                    "nodes": [
                        {
                            "id": n,
                            "kind": graph.attrs(n).get("kind", "unknown"),
                            "file": graph.attrs(n).get("file"),
                            "path": p,
                        }
                        for n, p in sorted(reached.items(), key=lambda i: (len(i[1]), i[0]))
                    ],
                },
                indent=2,
            )
            + "\n"
        )
    if output_format == "mermaid":
        return _mermaid(graph, start, reached, forward)
    return _text(graph, start, reached, forward)


def _own_column(start: str, node: str) -> bool:
    return "#" not in start and split_node_id(node)[0] == start


def _text(graph: LineageGraph, start: str, reached: dict[str, list[str]], forward: bool) -> str:
    word = "downstream" if forward else "upstream"
    if not reached:
        return f"{start}: nothing {word}\n"
    lines = [f"{start}: {len(reached)} node{'s' if len(reached) != 1 else ''} {word}"]
    for node, path in sorted(reached.items(), key=lambda i: (len(i[1]), i[0])):
        kind = graph.attrs(node).get("kind", "unknown")
        lines.append(f"  {node} [{kind}]")
        lines.append(f"      path: {' -> '.join(path if forward else reversed(path))}")
    return "\n".join(lines) + "\n"


def _mermaid(graph: LineageGraph, start: str, reached: dict[str, list[str]], forward: bool) -> str:
    ids: dict[str, str] = {}

    def ref(node: str) -> str:
        if node not in ids:
            ids[node] = f"n{len(ids)}"
        return f'{ids[node]}["{node}"]'

    edges = set()
    for path in reached.values():
        for a, b in itertools.pairwise(path):
            edges.add((a, b) if forward else (b, a))
    lines = ["graph LR"]
    lines += [f"  {ref(a)} --> {ref(b)}" for a, b in sorted(edges)]
    lines.append(f"  style {ids.get(start, 'n0')} stroke-width:3px")
    return "\n".join(lines) + "\n"


def render_graph(root: Path, config: Config, rev: str | None, output_format: str) -> str:
    """The whole lineage graph of a revision."""
    graph = graph_at(root, git.resolve(root, rev) if rev else git.WORKTREE, config)
    if output_format == "json":
        return json.dumps(node_link(graph), indent=2) + "\n"
    if output_format == "graphml":
        return graphml(graph)
    edges = sorted((a, b, d["kind"]) for a, b, d in graph.g.edges(data=True))
    if output_format == "dot":
        body = "\n".join(f'  "{a}" -> "{b}" [label="{k}"];' for a, b, k in edges)
        return f"digraph lineage {{\n  rankdir=LR;\n{body}\n}}\n"
    lines = ["graph LR"]
    names = {n: f"n{i}" for i, n in enumerate(sorted(graph.g.nodes))}
    lines += [f'  {names[a]}["{a}"] --> {names[b]}["{b}"]' for a, b, _ in edges]
    return "\n".join(lines) + "\n"


def node_link(graph: LineageGraph) -> dict[str, Any]:
    """networkx's node-link form, sorted: ``nodes`` (``id`` and attributes) and ``edges``
    (``from``, ``to``, ``kind``) as before networkx, plus ``directed``, ``multigraph`` and
    ``graph``, so ``networkx.node_link_graph(data, source="from", target="to")`` reads it."""
    import networkx as nx

    data: dict[str, Any] = nx.node_link_data(
        graph.g.to_networkx(), source="from", target="to", edges="edges"
    )
    data["nodes"] = sorted(
        ({"id": n["id"], **{k: v for k, v in n.items() if k != "id"}} for n in data["nodes"]),
        key=lambda n: str(n["id"]),
    )
    data["edges"] = sorted(data["edges"], key=lambda e: (e["from"], e["to"], e["kind"]))
    return data


def graphml(graph: LineageGraph) -> str:
    """GraphML (networkx's writer), for yEd, Gephi or Cytoscape. GraphML attributes are
    scalars: unset ones are left out, lists and mappings are written as JSON text."""
    import networkx as nx

    plain: nx.DiGraph[str] = nx.DiGraph()
    for node in sorted(graph.g.nodes):
        plain.add_node(node, **_scalars(graph.g.nodes[node]))
    for src, dst, attrs in sorted(graph.g.edges(data=True), key=lambda e: (e[0], e[1])):
        plain.add_edge(src, dst, **_scalars(attrs))
    return "\n".join(nx.generate_graphml(plain)) + "\n"


def _scalars(attrs: dict[str, Any]) -> dict[str, str | int | float | bool]:
    out: dict[str, str | int | float | bool] = {}
    for key, value in attrs.items():
        if value is None:
            continue
        if isinstance(value, (str, int, float, bool)):
            out[key] = value
        else:
            out[key] = json.dumps(value, sort_keys=True, default=str)
    return out
