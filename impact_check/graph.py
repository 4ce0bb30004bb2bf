"""The lineage graph: datasets, columns and jobs as nodes; data flow as edges.

Edge kinds:
- ``projection``: a source column flows into an output column (``a#x -> v#y``);
- ``clause:<where|joins|group|…>``: a source column is read by one of a dataset's clauses
  (``a#x -> v``); ``clause`` alone for INSERT jobs and missing columns;
- ``reads``: a dataset reads a relation (``a -> v``);
- ``star``: a dataset reads a relation through ``*`` with unknown columns;
- ``insert``: an INSERT … SELECT job writes a table (``job -> t`` and ``a#x -> t#y``).

Graphs of several revisions and sources merge by node id (DESIGN.md, Identity).
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from impact_check.model import Catalog, Lineage, column_id, split_node_id


@dataclass
class LineageGraph:
    """A directed graph of node ids with attributes ``kind``, ``file``, ``dataset``."""

    g: Any = field(default_factory=nx.DiGraph)

    def add_node(self, node: str, **attrs: Any) -> None:
        if node in self.g:
            for key, value in attrs.items():
                if value is not None:
                    self.g.nodes[node][key] = value
        else:
            self.g.add_node(node, **attrs)

    def add_edge(self, src: str, dst: str, kind: str) -> None:
        if not self.g.has_edge(src, dst):
            self.g.add_edge(src, dst, kind=kind)

    def merge(self, other: LineageGraph) -> None:
        """Add every node and edge of ``other`` (attributes of ``other`` win where set)."""
        for node, attrs in other.g.nodes(data=True):
            self.add_node(node, **attrs)
        for src, dst, attrs in other.g.edges(data=True):
            self.add_edge(src, dst, attrs.get("kind", "reads"))

    def __contains__(self, node: object) -> bool:
        return node in self.g

    def attrs(self, node: str) -> dict[str, Any]:
        return dict(self.g.nodes[node]) if node in self.g else {}

    def successors(self, node: str) -> Iterable[tuple[str, str]]:
        for dst in self.g.successors(node):
            yield dst, self.g.edges[node, dst]["kind"]

    def predecessors(self, node: str) -> Iterable[tuple[str, str]]:
        for src in self.g.predecessors(node):
            yield src, self.g.edges[src, node]["kind"]

    def columns_of(self, dataset: str) -> list[str]:
        return [n for n in self.g.nodes if n.startswith(dataset + "#")]

    def datasets(self) -> list[str]:
        return [n for n in self.g.nodes if "#" not in n]

    def walk(
        self, start: str, forward: bool = True, depth: int | None = None
    ) -> dict[str, list[str]]:
        """Breadth-first from ``start``: every reached node with the path to it.

        Column nodes continue only along column edges; a dataset reached through a clause
        edge continues to everything that reads it (its rows changed).
        """
        paths = {start: [start]}
        queue = deque([start])
        while queue:
            node = queue.popleft()
            if depth is not None and _hops(paths[node]) >= depth:
                continue
            step = self.successors(node) if forward else self.predecessors(node)
            for nxt, kind in step:
                if not forward and kind == "has":
                    continue  # a column's upstream is its sources, not its whole table's
                if nxt not in paths:
                    paths[nxt] = [*paths[node], nxt]
                    queue.append(nxt)
        return paths


def _hops(path: list[str]) -> int:
    """Number of dataset-to-dataset steps in a path (column hops inside one dataset are free)."""
    datasets = [split_node_id(node)[0] for node in path]
    return sum(1 for a, b in itertools.pairwise(datasets) if a != b)


def graph_from_catalog(catalog: Catalog) -> LineageGraph:
    """The lineage a catalog's SQL defines."""
    graph = LineageGraph()
    for name, dataset in catalog.datasets.items():
        file = dataset.location.file if dataset.location else None
        graph.add_node(name, kind=dataset.kind, file=file, origin="sql", owners=dataset.owners)
        for col in dataset.columns:
            graph.add_node(
                column_id(name, col), kind="column", dataset=name, file=file, origin="sql"
            )
            graph.add_edge(name, column_id(name, col), "has")
        if dataset.lineage is not None:
            _add_lineage(graph, name, dataset.lineage)
    for consumer in catalog.consumers:
        file = consumer.location.file if consumer.location else None
        graph.add_node(
            consumer.node_id,
            kind=consumer.kind,
            file=file,
            origin="dbt",
            owners=consumer.owners,
            name=consumer.name,
        )
        for relation in consumer.reads:
            graph.add_node(relation)
            graph.add_edge(relation, consumer.node_id, "reads")
            # which columns an exposure uses is unknown: any column may matter to it
            for column in (
                catalog.datasets[relation].columns if relation in catalog.datasets else ()
            ):
                graph.add_edge(column_id(relation, column), consumer.node_id, "exposure")
    for load in catalog.loads:
        graph.add_node(load.node_id, kind="job", file=load.location.file, origin="sql")
        graph.add_node(load.target, kind=graph.attrs(load.target).get("kind", "table"))
        if load.lineage is not None:
            _add_lineage(graph, load.node_id, load.lineage, target=load.target)
        graph.add_edge(load.node_id, load.target, "insert")
    return graph


def _add_lineage(
    graph: LineageGraph, name: str, lineage: Lineage, target: str | None = None
) -> None:
    out = target or name
    for table in lineage.tables:
        graph.add_node(table)
        graph.add_edge(table, name, "reads")
    for table in lineage.star_unknown:
        graph.add_edge(table, name, "star")
    for col, sources in lineage.columns.items():
        if col == "*":
            continue
        for src in sources:
            if src[1] == "*":
                continue
            graph.add_node(column_id(*src), kind="column", dataset=src[0])
            graph.add_edge(src[0], column_id(*src), "has")
            if target is not None:
                graph.add_edge(column_id(*src), name, "clause")
            graph.add_edge(column_id(*src), column_id(out, col), "projection")
    for clause in sorted(lineage.clauses):
        for src in lineage.clauses[clause]:
            graph.add_node(column_id(*src), kind="column", dataset=src[0])
            graph.add_edge(src[0], column_id(*src), "has")
            graph.add_edge(column_id(*src), name, f"clause:{clause}")
    for src in lineage.missing:
        if src[0]:
            graph.add_node(column_id(*src), kind="column", dataset=src[0])
            graph.add_edge(column_id(*src), name, "clause")
