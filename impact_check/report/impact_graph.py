"""The impact graph as people look at it: datasets as boxes holding their affected columns.

Findings carry paths of node ids (``relation#column``, ``relation``, ``mlflow:model/3``…).
This module folds them into boxes (one per dataset or asset, with the columns the paths go
through), edges between those nodes, and for every consumer the edges of the paths that
reach it — what the HTML report draws and the Markdown comment's Mermaid graph groups.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from impact_check.model import Report

# Box states, strongest first: a box shows the strongest state any of its nodes has.
STATES = ("broken", "changed", "affected", "preexisting")


@dataclass
class Box:
    """One dataset or asset, with the columns the impact paths go through."""

    id: str
    columns: list[str] = field(default_factory=list)
    state: str = "affected"
    kind: str | None = None
    broken_columns: set[str] = field(default_factory=set)
    changed_columns: set[str] = field(default_factory=set)


@dataclass
class ImpactGraph:
    """Boxes, node-level edges, and the edges on the paths to each consumer box."""

    boxes: dict[str, Box] = field(default_factory=dict)
    edges: list[tuple[str, str]] = field(default_factory=list)
    paths: dict[str, set[int]] = field(default_factory=dict)  # box id -> edge indexes

    def box_edges(self) -> list[tuple[str, str]]:
        """Edges between boxes (a column edge inside one box is not one)."""
        pairs = ((box_of(a), box_of(b)) for a, b in self.edges)
        return list(dict.fromkeys((a, b) for a, b in pairs if a != b))


def box_of(node: str) -> str:
    """The dataset (or asset) a node belongs to: ``raw.orders#amount`` -> ``raw.orders``."""
    return node.split("#", 1)[0]


def column_of(node: str) -> str | None:
    return node.split("#", 1)[1] if "#" in node else None


def impact_graph(report: Report, max_edges: int | None = None) -> ImpactGraph:
    """Fold every finding's impact paths into boxes; ``max_edges`` caps the edges kept."""
    graph = ImpactGraph()
    index: dict[tuple[str, str], int] = {}
    state: dict[str, str] = {}

    def mark(box: str, new: str) -> None:
        old = state.get(box)
        if old is None or STATES.index(new) < STATES.index(old):
            state[box] = new

    def add_node(node: str) -> Box:
        box = graph.boxes.setdefault(box_of(node), Box(box_of(node)))
        column = column_of(node)
        if column is not None and column not in box.columns:
            box.columns.append(column)
        return box

    for finding in report.findings:
        if finding.change is not None:
            changed = add_node(finding.change.target)
            mark(changed.id, "changed")
            if finding.change.column:
                changed.changed_columns.add(finding.change.column)
        for impact in finding.impacted:
            kept = []
            for edge in itertools.pairwise(impact.path):
                if edge not in index:
                    if max_edges is not None and len(index) >= max_edges:
                        continue
                    index[edge] = len(graph.edges)
                    graph.edges.append(edge)
                kept.append(index[edge])
            for node in impact.path:
                add_node(node)
            consumer = add_node(impact.node)
            consumer.kind = consumer.kind or impact.kind
            if impact.preexisting:
                mark(consumer.id, "preexisting")
            elif impact.breaks:
                mark(consumer.id, "broken")
                last = impact.path[-1] if impact.path else impact.node
                for column in (impact.column, column_of(last)):
                    if column and box_of(last) == consumer.id:
                        consumer.broken_columns.add(column)
            else:
                mark(consumer.id, "affected")
            graph.paths.setdefault(consumer.id, set()).update(kept)
    for box in graph.boxes.values():
        box.state = state.get(box.id, "affected")
    return graph
