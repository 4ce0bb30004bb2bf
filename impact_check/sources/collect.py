"""Collecting a source's nodes and edges, deduplicated, into its GraphFragment.

Catalog sources (Airflow, Unity Catalog, OpenMetadata, Snowflake, dbt Cloud, Atlas) meet
the same node many times (a table downstream of two touched tables, a task reading two
assets). ``Collector`` keeps one node per id (later sightings fill what earlier ones left
unset) and one edge per (source, destination); ``finish`` writes them into the fragment,
dropping table-level ``reads`` between two datasets that column lineage also connects
(the column edges say more; a table-level edge would make every column change reach the
downstream dataset).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from impact_check.sources.base import FragmentNode, GraphFragment

# When two sightings of one edge disagree, the more precise kind wins.
_PRECISION = {"reads": 0, "exposure": 0, "writes": 1, "column": 2, "projection": 3, "has": 4}


@dataclass
class Collector:
    """One source's nodes and edges by id (see the module docstring)."""

    fragment: GraphFragment
    origin: str
    nodes: dict[str, FragmentNode] = field(default_factory=dict)
    edges: dict[tuple[str, str], str] = field(default_factory=dict)

    def node(
        self,
        node_id: str,
        kind: str,
        name: str | None = None,
        url: str | None = None,
        owners: Iterable[str] = (),
        columns: dict[str, str | None] | None = None,
        attrs: dict[str, Any] | None = None,
        sql: str | None = None,
        dialect: str | None = None,
    ) -> FragmentNode:
        """Add the node ``node_id`` or complete the one already there."""
        node = self.nodes.get(node_id)
        if node is None:
            node = FragmentNode(node_id, kind, self.origin)
            self.nodes[node_id] = node
        node.name = node.name or name
        node.url = node.url or url
        node.owners += [o for o in owners if o and o not in node.owners]
        for column, col_type in (columns or {}).items():
            if node.columns.get(column) is None:
                node.columns[column] = col_type
        for key, value in (attrs or {}).items():
            node.attrs.setdefault(key, value)
        if sql and not node.sql:
            node.sql, node.dialect = sql, dialect
        return node

    def edge(self, src: str, dst: str, kind: str) -> None:
        """A data-flow edge; of two kinds for one pair, the more precise is kept."""
        if src == dst:
            return
        known = self.edges.get((src, dst))
        if known is None or _PRECISION.get(kind, 0) > _PRECISION.get(known, 0):
            self.edges[(src, dst)] = kind

    def finish(self) -> GraphFragment:
        """Write the nodes and edges into the fragment (see the module docstring)."""
        covered = {
            (s.split("#", 1)[0], d.split("#", 1)[0])
            for (s, d), kind in self.edges.items()
            if kind == "projection"
        }
        for node in self.nodes.values():
            self.fragment.node(node)
        for (src, dst), kind in sorted(self.edges.items()):
            if kind == "reads" and (src, dst) in covered:
                continue
            self.fragment.edge(src, dst, kind)
        return self.fragment


T = TypeVar("T", str, tuple[str, str])


def walk_hops(
    starts: Iterable[T],
    depth: int,
    step: Callable[[list[T]], list[T]],
    fragment: GraphFragment,
    beyond: str,
) -> set[T]:
    """Breadth-first from ``starts``: ``step(frontier)`` asks the system about one hop and
    returns what lies next; at most ``depth`` hops, what is left is counted under
    ``beyond``. Returns every item asked about."""
    seen: set[T] = set()
    frontier = sorted(set(starts))
    for hop in range(depth + 1):
        frontier = sorted(set(frontier) - seen)
        if not frontier:
            break
        if hop == depth:
            fragment.count(beyond, len(frontier))
            break
        seen |= set(frontier)
        frontier = step(frontier)
    return seen


def with_prefix(name: str, prefix: str | None, parts: int) -> str | None:
    """``name`` as a ``parts``-part name in a system that needs them (Unity Catalog's
    ``catalog.schema.table``, OpenMetadata's ``service.database.schema.table``): the
    leading parts it lacks are the first ones of ``prefix``. With ``svc.shop`` and 4 parts,
    ``analytics.orders`` becomes ``svc.shop.analytics.orders`` and ``shop.analytics.orders``
    becomes ``svc.shop.analytics.orders``; None when ``prefix`` has too few parts."""
    have = name.split(".")
    if len(have) >= parts:
        return name
    missing = parts - len(have)
    extra = prefix.split(".") if prefix else []
    if len(extra) < missing:
        return None
    return ".".join([*extra[:missing], *have])


def skipped(fragment: GraphFragment) -> GraphFragment:
    """The fragment of a run whose diff touches no dataset: nothing to look up."""
    fragment.status = "skipped"
    fragment.detail = "the diff touches no dataset: nothing to look up"
    return fragment
