"""Which consumers known only to fetched lineage break at head, and why.

The repository's datasets are bound by bind.py. A consumer from a lineage source (a job,
a dashboard, a feature view, a model version) cannot be bound from SQL; it breaks when:
- it reads (column- or table-level) a relation the repository defined at base and no
  longer defines at head (dropped or renamed);
- it reads, by column-level lineage, a column the relation had at base and lacks at head;
- something it reads breaks (transitively, including repository datasets that break).

- it declares a type for a column (a Feast dtype, an MLflow signature) that the column's
  head type no longer fits (ml.expectation_breaks); the ML rules report the details.
"""

from __future__ import annotations

from collections import deque

from impact_check.bind import Break
from impact_check.dq import dq_breaks
from impact_check.graph import REPO_ORIGINS, LineageGraph
from impact_check.ml import expectation_breaks
from impact_check.model import Catalog, column_id

_READ_EDGES = ("reads", "column", "projection", "exposure", "writes", "star")


def _is_read(kind: str) -> bool:
    return kind in _READ_EDGES or kind.startswith("clause")


def fetched_breaks(
    graph: LineageGraph, base: Catalog, head: Catalog, head_breaks: dict[str, list[Break]]
) -> dict[str, list[Break]]:
    """Break reasons at head for every fetched node that breaks (node id -> reasons)."""
    broken: dict[str, list[Break]] = {}
    for node, attrs in graph.g.nodes(data=True):
        if "#" in node or attrs.get("origin") in REPO_ORIGINS or node in head.datasets:
            continue
        reasons = _own_reasons(graph, node, base, head)
        if reasons:
            broken[node] = reasons
    queue = deque([*broken, *head_breaks])
    seen = set(queue)
    while queue:
        upstream = queue.popleft()
        for consumer in _readers(graph, upstream):
            attrs = graph.attrs(consumer)
            if attrs.get("origin") in REPO_ORIGINS or consumer in head.datasets:
                continue
            broken.setdefault(consumer, []).append(
                Break(f"reads {upstream}, which breaks", {upstream}, upstream=upstream)
            )
            if consumer not in seen:
                seen.add(consumer)
                queue.append(consumer)
    return broken


def _own_reasons(graph: LineageGraph, node: str, base: Catalog, head: Catalog) -> list[Break]:
    reasons = []
    # A fetched dataset's columns computed from a column that is gone break it too
    # (DataHub and Marquez record dataset-to-dataset column lineage with no job between).
    inputs = [*graph.predecessors(node)] + [
        (src, kind)
        for col, has in graph.successors(node)
        if has == "has"
        for src, kind in graph.predecessors(col)
        if kind == "projection" and "#" in src
    ]
    for src, kind in inputs:
        if not _is_read(kind):
            continue
        relation, _, column = src.partition("#")
        if relation in base.datasets and relation not in head.datasets:
            reasons.append(Break(f"reads {relation}, which no longer exists", {relation}))
        elif column and kind != "exposure" and _column_gone(relation, column, base, head):
            reasons.append(
                Break(
                    f"reads {relation}.{column}, which no longer exists",
                    {column_id(relation, column)},
                )
            )
    reasons += expectation_breaks(graph, node, base, head)
    reasons += dq_breaks(graph, node, base, head)
    unique = {r.message: r for r in reasons}
    return [unique[m] for m in sorted(unique)]


def _column_gone(relation: str, column: str, base: Catalog, head: Catalog) -> bool:
    before, after = base.datasets.get(relation), head.datasets.get(relation)
    if before is None or after is None or not after.columns_known:
        return False
    return column in before.columns and column not in after.columns


def _readers(graph: LineageGraph, node: str) -> set[str]:
    """Nodes that read ``node`` or any of its columns."""
    out = set()
    for dst, kind in graph.successors(node):
        if kind == "has":
            out |= {d.split("#", 1)[0] for d, k in graph.successors(dst) if _is_read(k)}
        elif _is_read(kind):
            out.add(dst.split("#", 1)[0])
    out.discard(node)
    return out
