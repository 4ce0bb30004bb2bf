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
        origin = dataset.origin
        graph.add_node(name, kind=dataset.kind, file=file, origin=origin, owners=dataset.owners)
        for col in dataset.columns:
            graph.add_node(
                column_id(name, col), kind="column", dataset=name, file=file, origin=origin
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


@dataclass
class MergeStats:
    """What merging one fragment did, for the report's ``sources`` entry."""

    nodes: int = 0
    edges: int = 0
    overridden: int = 0  # edges into datasets the repository defines (its SQL wins)
    own_jobs: int = 0  # fetched jobs that only build repository datasets (the SQL wins)
    suffix_matches: dict[str, str] = field(default_factory=dict)
    ambiguous: set[str] = field(default_factory=set)
    external: int = 0  # relations the repository does not define

    def counts(self) -> dict[str, int]:
        """The merge's figures for the report's ``sources[].counts``."""
        figures = {
            "suffix matches": len(self.suffix_matches),
            "ambiguous names": len(self.ambiguous),
            "edges into repository datasets ignored": self.overridden,
            "jobs building repository datasets ignored": self.own_jobs,
            "relations outside the repository": self.external,
        }
        return {k: v for k, v in figures.items() if v}

    def summary(self) -> str:
        parts = []
        if self.suffix_matches:
            shown = ", ".join(f"{a} -> {b}" for a, b in sorted(self.suffix_matches.items())[:3])
            more = len(self.suffix_matches) - 3
            parts.append(
                f"{len(self.suffix_matches)} names matched by suffix ({shown}"
                + (f", +{more} more" if more > 0 else "")
                + ")"
            )
        if self.ambiguous:
            parts.append(f"{len(self.ambiguous)} ambiguous names left unmatched")
        if self.own_jobs:
            parts.append(f"{self.own_jobs} jobs building repository datasets ignored (SQL wins)")
        if self.overridden:
            parts.append(f"{self.overridden} edges into repository datasets ignored (SQL wins)")
        if self.external:
            parts.append(f"{self.external} relations outside the repository")
        return "; ".join(parts)


_REPO_ORIGINS = ("sql", "dbt")


def merge_fragment(graph: LineageGraph, fragment: Any, derived: set[str]) -> MergeStats:
    """Merge a source's GraphFragment into ``graph`` (sources.base.GraphFragment).

    Relation names are matched onto the repository's (exactly, else by an unambiguous
    suffix, reported). The repository's own lineage wins for the datasets it derives
    (``derived``): the fetched graph describes production (base), the SQL describes head.
    A table-level ``reads`` of a relation becomes an ``exposure`` edge from each of its
    known columns, so column changes reach consumers whose column use is unknown.
    """
    from impact_check.identity import Matcher, is_asset

    repo = {
        n for n, a in graph.g.nodes(data=True) if "#" not in n and a.get("origin") in _REPO_ORIGINS
    }
    matcher = Matcher(repo)
    stats = MergeStats()
    external: set[str] = set()
    own_jobs = _own_jobs(fragment, matcher, derived)
    stats.own_jobs = len(own_jobs)
    for node in fragment.nodes:
        node_id = matcher.node(node.id)
        if node_id in own_jobs:
            continue
        relation = node_id.split("#", 1)[0]
        if not is_asset(node_id) and relation not in repo:
            external.add(relation)
        attrs = {
            "kind": node.kind,
            "origin": node.origin,
            "name": node.name,
            "owners": node.owners or None,
            "url": node.url,
            "expects": {matcher.node(k): v for k, v in node.expects.items()} or None,
            **node.attrs,
        }
        if node_id in graph:
            existing = graph.attrs(node_id)
            attrs = {k: v for k, v in attrs.items() if existing.get(k) in (None, [], {})}
            if existing.get("origin") in _REPO_ORIGINS:
                attrs.pop("origin", None)
                attrs.pop("kind", None)
        else:
            stats.nodes += 1
        graph.add_node(node_id, **attrs)
        if relation not in repo:
            for column, col_type in node.columns.items():
                col = column_id(node_id, column)
                if col not in graph:
                    stats.nodes += 1
                graph.add_node(
                    col, kind="column", dataset=node_id, origin=node.origin, type=col_type
                )
                graph.add_edge(node_id, col, "has")
    columns: dict[str, list[str]] = {}
    for node in graph.g.nodes:
        if "#" in node:
            columns.setdefault(node.split("#", 1)[0], []).append(node)
    for edge in fragment.edges:
        src, dst = matcher.node(edge.src), matcher.node(edge.dst)
        if src in own_jobs or dst in own_jobs:
            continue
        if dst.split("#", 1)[0] in derived and edge.kind != "has":
            stats.overridden += 1
            continue
        for node in (src, dst):
            if node not in graph:
                dataset = node.split("#", 1)[0]
                graph.add_node(node, kind="column" if "#" in node else "table", dataset=dataset)
                if "#" in node:
                    graph.add_node(dataset)
                    graph.add_edge(dataset, node, "has")
                    columns.setdefault(dataset, []).append(node)
                if not is_asset(dataset) and dataset not in repo:
                    external.add(dataset)
        if not graph.g.has_edge(src, dst):
            stats.edges += 1
        elif graph.g.edges[src, dst].get("kind") == "exposure" and edge.kind != "exposure":
            # a table-level read made every column an exposure; column lineage says more
            graph.g.edges[src, dst]["kind"] = edge.kind
        graph.add_edge(src, dst, edge.kind)
        if edge.kind == "reads" and "#" not in src:
            for col in columns.get(src, []):
                graph.add_edge(col, dst, "exposure")
    stats.suffix_matches = dict(matcher.suffix_matches)
    stats.ambiguous = set(matcher.ambiguous)
    stats.external = len(external)
    return stats


def _own_jobs(fragment: Any, matcher: Any, derived: set[str]) -> set[str]:
    """Fetched jobs every output of which the repository derives: the repository's own
    builds (a dbt-ol run of this project), described by its SQL, not consumers of it."""
    writes: dict[str, set[str]] = {}
    for edge in fragment.edges:
        if edge.kind == "writes":
            writes.setdefault(matcher.node(edge.src), set()).add(matcher.node(edge.dst))
    return {job for job, outputs in writes.items() if outputs <= derived}
