"""Changes x lineage graph -> the consumers each change reaches, and whether they break.

A consumer breaks when it does not bind at head (bind.py) for a reason this change causes:
one of its break causes is the changed node or lies downstream of it. Consumers already
broken at base are marked ``preexisting``. Everything else reached is only affected.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from impact_check.bind import Break
from impact_check.graph import LineageGraph
from impact_check.model import Change, Impact, column_id, split_node_id
from impact_check.sql.types import changed_fields, paths_meet


@dataclass
class Bindings:
    """Break reasons at both revisions (node id -> reasons)."""

    base: dict[str, list[Break]]
    head: dict[str, list[Break]]


def start_nodes(change: Change, graph: LineageGraph) -> list[str]:
    """Where a change enters the graph: its column, or its table."""
    if change.column is not None:
        return [column_id(change.dataset, change.column)]
    return [change.dataset]


def impacts_of(change: Change, graph: LineageGraph, bindings: Bindings) -> list[Impact]:
    """Every downstream consumer of ``change`` (never the changed dataset itself).

    The walk follows column lineage; from a consumer that breaks it continues to everything
    that reads that consumer, since a relation that does not build breaks all its readers.
    """
    starts = [node for node in start_nodes(change, graph) if node in graph]
    own = {change.dataset, *([str(change.after)] if change.kind == "table_renamed" else [])}
    blame = lineage_reach(graph, starts)  # nodes whose absence or type this change causes
    reached: dict[str, list[str]] = {}
    seeds = [(start, [start]) for start in starts]
    consumers: dict[str, Impact] = {}
    for start in starts:  # writers of a dropped or renamed table fail as well
        for writer, kind in graph.predecessors(start):
            if kind == "insert":
                consumers[writer] = _impact(
                    writer, [start, writer], graph, bindings, blame | {writer}
                )
    follow = _field_filter(change, starts)
    while seeds:
        seed, prefix = seeds.pop(0)
        for node, path in graph.walk(seed, follow=follow if seed in starts else None).items():
            reached.setdefault(node, [*prefix[:-1], *path])
        for node, path in list(reached.items()):
            dataset = split_node_id(node)[0]
            if dataset in own or dataset in consumers:
                continue
            impact = _impact(dataset, path, graph, bindings, blame | {dataset})
            if not impact.breaks and _edge_kind(graph, path[-2], path[-1]) == "binds":
                continue  # only binds the column, and still does: nothing it shows changes
            consumers[dataset] = impact
            if impact.breaks and dataset in graph:
                blame.add(dataset)
                seeds.append((dataset, path))
    return sorted(consumers.values(), key=lambda i: (len(i.path), i.node))


def _field_filter(
    change: Change, starts: list[str]
) -> Callable[[str, str, dict[str, Any]], bool] | None:
    """For a change inside a struct (fields removed, renamed or retyped): an edge filter
    that leaves out readers of the struct's other fields. The struct flows on whole
    through plain projections; a reader of its fields is reached only through the fields
    that changed."""
    if change.kind != "type_changed" or change.types is None:
        return None
    touched = changed_fields(*change.types)
    if touched is None:
        return None
    carrying = set(starts)  # nodes holding the changed struct whole

    def follow(node: str, nxt: str, attrs: dict[str, Any]) -> bool:
        if node not in carrying:
            return True
        fields = attrs.get("fields")
        if fields is not None:
            return any(paths_meet(read, changed) for read in fields for changed in touched)
        if attrs.get("kind") == "projection":
            carrying.add(nxt)
        return True

    return follow


def lineage_reach(graph: LineageGraph, starts: list[str]) -> set[str]:
    """The changed nodes and the output columns that pass them through (projection only)."""
    seeds = list(starts)
    for start in starts:
        if "#" not in start:  # a table change reaches all of its columns
            seeds += [n for n, kind in graph.successors(start) if kind == "has"]
    return graph.reach(seeds, ("projection",))


def _impact(
    consumer: str, path: list[str], graph: LineageGraph, bindings: Bindings, blame: set[str]
) -> Impact:
    attrs = graph.attrs(consumer)
    breaks = [b for b in bindings.head.get(consumer, []) if b.causes & blame]
    certainty = "certain"
    if any(_uncertain_edge(graph, a, b) for a, b in itertools.pairwise(path)):
        certainty = "possible"
    if breaks:  # a break is as certain as its reason, whatever path found it
        certain = any(b.certainty == "certain" for b in breaks)
        certainty = "certain" if certain else "likely"
        reason = "; ".join(sorted({b.message for b in breaks}))
    else:
        reason = _affected_reason(path, graph)
    return Impact(
        node=consumer,
        kind=attrs.get("kind", "unknown"),
        breaks=bool(breaks),
        path=path,
        certainty=certainty,
        reason=reason,
        preexisting=bool(breaks) and consumer in bindings.base,
        file=attrs.get("file"),
        column=split_node_id(path[-1])[1],
        owners=list(attrs.get("owners") or []),
        name=attrs.get("name"),
        origin=attrs.get("origin"),
        details={k: attrs[k] for k in DETAIL_KEYS if attrs.get(k) not in (None, "", [], {})},
    )


# Node attributes a report shows about a consumer (set by lineage sources, see ml.py).
DETAIL_KEYS = (
    "model",
    "version",
    "aliases",
    "stage",
    "run_id",
    "signature",
    "feature_view",
    "feature_services",
    "url",
    "suite",  # data-quality checks (dq.py): the suite, its checkpoints, the check's type
    "checkpoints",
    "expectation_type",
    "also_known_as",  # ids of the nodes naming the same ML model (graph.merge_same_models)
    "known_from",
    "user",  # a Snowflake ACCESS_HISTORY reader: who, as which role, with which query tag
    "role",
    "query_tag",
    "queries",
    "last_read",
)


def _uncertain_edge(graph: LineageGraph, src: str, dst: str) -> bool:
    """A `*` over unknown columns, an exposure of a whole table, or a semi-structured path."""
    data = graph.g.get_edge_data(src, dst) or {}
    return data.get("kind") in ("star", "exposure") or bool(data.get("loose"))


def _edge_kind(graph: LineageGraph, src: str, dst: str) -> str | None:
    return graph.edge_kind(src, dst)


def _affected_reason(path: list[str], graph: LineageGraph) -> str:
    last = _edge_kind(graph, path[-2], path[-1]) if len(path) > 1 else None
    if last is not None and last.startswith("clause"):
        return f"filters, joins or groups on {path[-2]}: its rows may change"
    if last == "feeds":  # a pipeline step after an import or another step (sources/dvc.py)
        return f"runs on what {path[-2]} writes"
    if last == "projection":
        return f"passes {path[-2]} through as {path[-1]}"
    return "reads the changed relation"


def unexplained_breaks(
    bindings: Bindings, explained: set[str], file_of: Callable[[str], str | None] | None = None
) -> dict[str, list[Break]]:
    """Datasets broken at head (not at base) that no change's walk accounts for.

    A dataset that broke the same way at base under another name is not new: a statement
    named by its line (``sql:insert/<file>:<line>``) that moved, or a model whose relation
    was renamed (a profile's schema edited) defined by the same file, with the same
    reasons once relation names are cut to their last part (``file_of`` names the file)."""
    moved = {_moved_key(n, r, file_of) for n, r in bindings.base.items()}
    return {
        name: reasons
        for name, reasons in bindings.head.items()
        if name not in explained
        and name not in bindings.base
        and _moved_key(name, reasons, file_of) not in moved
    }


_QUALIFIED = re.compile(r"(?:[\w$]+\.)+([\w$]+)")


def _moved_key(
    name: str, reasons: list[Break], file_of: Callable[[str], str | None] | None
) -> tuple[str, frozenset[str]]:
    if name.startswith("sql:insert/"):
        return name.rpartition(":")[0], frozenset(r.message for r in reasons)
    file = file_of(name) if file_of is not None else None
    if file is None:
        return name, frozenset(r.message for r in reasons)
    table = name.rpartition(".")[2]  # a schema renamed: the same table of the same file
    return f"file:{file}:{table}", frozenset(_QUALIFIED.sub(r"\1", r.message) for r in reasons)


def readers_of_unbuilt(
    unexplained: dict[str, list[Break]], graph: LineageGraph, bindings: Bindings
) -> dict[str, list[Impact]]:
    """The roots among ``unexplained`` (datasets that do not bind at head for a reason of
    their own), each with the readers that break only because it does not build.

    A reader whose every reason is reading another unexplained dataset is not a finding of
    its own: it is a consumer of the root it reads through, so a report names the cause
    once with its consumers instead of one error per reader (a suite of 15 expectations on
    a model that stopped building made 15 errors)."""
    readers: dict[str, set[str]] = {}
    followers = set()
    for name, reasons in unexplained.items():
        upstreams = {r.upstream for r in reasons}
        if reasons and None not in upstreams and upstreams <= set(unexplained) - {name}:
            followers.add(name)
            for upstream in upstreams:
                readers.setdefault(str(upstream), set()).add(name)
    paths: dict[str, list[str]] = {}
    roots = [name for name in unexplained if name not in followers]
    for root in roots:
        queue = [[root]]
        while queue:
            path = queue.pop(0)
            for reader in sorted(readers.get(path[-1], ())):
                if reader not in paths and reader not in unexplained.keys() - followers:
                    paths[reader] = [*path, reader]
                    queue.append(paths[reader])
    # readers of each other only (a cycle): no root reaches them, each stays its own finding
    out: dict[str, list[Impact]] = {name: [] for name in roots}
    out.update({name: [] for name in followers if name not in paths})
    blame = set(unexplained)
    for reader, path in paths.items():
        out[path[0]].append(_impact(reader, path, graph, bindings, blame))
    for impacts in out.values():
        impacts.sort(key=lambda i: (len(i.path), i.node))
    return out
