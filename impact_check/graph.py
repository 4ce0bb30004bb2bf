"""The lineage graph: datasets, columns and jobs as nodes; data flow as edges.

Edge kinds:
- ``projection``: a source column flows into an output column (``a#x -> v#y``);
- ``clause:<where|joins|group|…>``: a source column is read by one of a dataset's clauses
  (``a#x -> v``); ``clause`` alone for INSERT jobs and missing columns;
- ``binds``: a source column is read where neither the output nor the rows show it (a CTE
  column the outer query leaves out): the dataset breaks without it, nothing else changes;
- ``reads``: a dataset reads a relation (``a -> v``);
- ``star``: a dataset reads a relation through ``*`` with unknown columns;
- ``insert``: an INSERT … SELECT job writes a table (``job -> t`` and ``a#x -> t#y``).

Graphs of several revisions and sources merge by node id (DESIGN.md, Identity). The graph
itself is a ``digraph.DiGraph`` (networkx's layout on plain dicts; see digraph.py for why
not networkx itself).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from impact_check.digraph import (
    DiGraph,
    bfs_edges,
    dfs_postorder,
    sink_generations,
    strongly_connected_components,
)
from impact_check.model import Catalog, GraphFragment, Lineage, column_id, split_node_id


class LineageGraph:
    """The lineage graph as the checker speaks of it, over a ``digraph.DiGraph`` (``g``).

    Node ids are strings (DESIGN.md, Identity) with attributes ``kind``, ``file``,
    ``dataset``, ``origin``…; every edge has a ``kind`` (see the module docstring). The
    directed graph is made when first used.
    """

    __slots__ = ("_columns", "_g")

    def __init__(self) -> None:
        self._g: DiGraph[str] | None = None
        # dataset -> its column nodes, kept as nodes are added (columns_of without a scan)
        self._columns: dict[str, dict[str, None]] = {}

    @property
    def g(self) -> DiGraph[str]:
        """The directed graph itself (networkx's API subset; ``g.to_networkx()`` for
        networkx's algorithms and writers)."""
        if self._g is None:
            self._g = DiGraph()
        return self._g

    def add_node(self, node: str, **attrs: Any) -> None:
        g = self.g
        if node in g:
            existing = g.nodes[node]
            for key, value in attrs.items():
                if value is not None:
                    existing[key] = value
        else:
            g.add_node(node, **attrs)
            self._index(node)

    def add_edge(
        self,
        src: str,
        dst: str,
        kind: str,
        fields: tuple[str, ...] | None = None,
        loose: bool = False,
    ) -> None:
        """Add an edge (the first kind given wins). ``fields``: the source column is read
        only through these struct fields (a change to other fields does not reach ``dst``);
        an edge added once without them reads the whole value. ``loose``: only through
        semi-structured paths (Snowflake ``v:a``), which yield NULL rather than fail."""
        g = self.g
        data = g.get_edge_data(src, dst)
        if data is None:
            for node in (src, dst):
                if node not in g:
                    g.add_node(node)
                    self._index(node)
            g.add_edge(src, dst, kind=kind)
            data = g.get_edge_data(src, dst)
            assert data is not None
            if fields is not None:
                data["fields"] = fields
            if loose:
                data["loose"] = True
            return
        _merge_edge(data, fields, loose)

    def _index(self, node: str) -> None:
        dataset, sep, _column = node.partition("#")
        if sep:
            self._columns.setdefault(dataset, {})[node] = None

    def __contains__(self, node: object) -> bool:
        return self._g is not None and node in self._g

    def __len__(self) -> int:
        return 0 if self._g is None else len(self._g)

    def attrs(self, node: str) -> dict[str, Any]:
        return dict(self.g.nodes[node]) if node in self else {}

    def edge_kind(self, src: str, dst: str) -> str | None:
        """The kind of the edge ``src -> dst``, None when there is none."""
        data = self.g.get_edge_data(src, dst) if src in self else None
        return None if data is None else str(data["kind"])

    def successors(self, node: str) -> Iterator[tuple[str, str]]:
        for dst, attrs in self.g.succ[node].items():
            yield dst, attrs["kind"]

    def predecessors(self, node: str) -> Iterator[tuple[str, str]]:
        for src, attrs in self.g.pred[node].items():
            yield src, attrs["kind"]

    def columns_of(self, dataset: str) -> list[str]:
        return list(self._columns.get(dataset, ()))

    def datasets(self) -> list[str]:
        return [n for n in self.g.nodes if "#" not in n]

    def reach(self, starts: Iterable[str], kinds: Iterable[str]) -> set[str]:
        """``starts`` and every node reachable from them along edges of ``kinds`` only."""
        g, wanted = self.g, frozenset(kinds)
        succ = g.succ

        def neighbors(node: str) -> Iterator[str]:
            return (nxt for nxt, attrs in succ[node].items() if attrs["kind"] in wanted)

        out: set[str] = set()
        for start in starts:
            if start not in out:
                out.add(start)
                out.update(child for _, child in bfs_edges(start, neighbors, len(g)))
        return out

    def walk(
        self,
        start: str,
        forward: bool = True,
        depth: int | None = None,
        follow: Callable[[str, str, dict[str, Any]], bool] | None = None,
    ) -> dict[str, list[str]]:
        """Breadth-first from ``start``: every reached node with the
        shortest path to it.

        Column nodes continue only along column edges; a dataset reached through a clause
        edge continues to everything that reads it (its rows changed); a node reached
        through a ``binds`` edge is reached but not passed (nothing it shows changes).
        Backwards, a column's upstream is its sources, not its whole table's (``has`` edges
        are not followed). ``depth`` counts dataset-to-dataset hops. ``follow`` (edge
        source, target, attributes) may refuse an edge to a node not reached yet (another
        edge may still reach it).
        """
        g = self.g
        adjacency: Mapping[str, Mapping[str, dict[str, Any]]] = g.succ if forward else g.pred
        paths = {start: [start]}
        stopped: set[str] = set()

        def neighbors(node: str) -> Iterator[str]:
            # a generator: runs when ``node`` is expanded, after its path is known
            if node in stopped or (depth is not None and _hops(paths[node]) >= depth):
                return
            for nxt, attrs in adjacency[node].items():
                if not forward and attrs["kind"] == "has":
                    continue
                if nxt in paths or follow is None or follow(node, nxt, attrs):
                    yield nxt

        for parent, child in bfs_edges(start, neighbors, len(g)):
            paths[child] = [*paths[parent], child]
            if adjacency[parent][child]["kind"] == "binds":
                stopped.add(child)  # its rows and values do not change: stop there
        return paths


@dataclass
class DatasetOrder:
    """Datasets in the order to derive them (see :func:`dataset_order`)."""

    ordered: list[str]  # each after what it reads; path order breaks ties and cycles
    waves: list[list[str]]  # groups of mutually independent datasets, each reading earlier ones
    cycles: list[list[str]]  # datasets that read each other (no database can create them)


def dataset_order(reads: Mapping[str, Iterable[str]]) -> DatasetOrder:
    """Order datasets (in ``reads``' order, i.e. path order) after the datasets they read.

    ``ordered`` is the depth-first post-order, visiting what a dataset reads in name order;
    ``waves`` are the generations from what reads nothing up, each in ``ordered`` order.
    Datasets that read each other (a strongly connected component) are a cycle: then every
    dataset is its own wave, so each sees exactly what a one-by-one derivation shows it.
    """
    g: DiGraph[str] = DiGraph()
    for name in reads:
        g.add_node(name)
    for name, deps in reads.items():
        g.add_edges_from((name, dep) for dep in sorted(set(deps)) if dep in reads and dep != name)
    ordered = dfs_postorder(g)
    cycles = [
        sorted(component, key=ordered.index)
        for component in strongly_connected_components(g)
        if len(component) > 1
    ]
    if cycles:
        cycles.sort(key=lambda c: ordered.index(c[0]))
        return DatasetOrder(ordered, [[name] for name in ordered], cycles)
    position = {name: i for i, name in enumerate(ordered)}
    waves = [sorted(generation, key=position.__getitem__) for generation in sink_generations(g)]
    return DatasetOrder(ordered, waves, [])


def _hops(path: list[str]) -> int:
    """Number of dataset-to-dataset steps in a path (column hops inside one dataset are free)."""
    datasets = [split_node_id(node)[0] for node in path]
    return sum(1 for a, b in itertools.pairwise(datasets) if a != b)


def _merge_edge(data: dict[str, Any], fields: tuple[str, ...] | None, loose: bool) -> None:
    """An edge added again: read through the union of the fields (the whole value when one
    addition named none), loose only while every addition is."""
    if "fields" in data:
        if fields is None:
            del data["fields"]
        else:
            data["fields"] = tuple(sorted(set(data["fields"]) | set(fields)))
    if not loose:
        data.pop("loose", None)


class _Draft:
    """LineageGraph's ``add_node``/``add_edge``/``attrs`` on plain dicts, same semantics: a
    graph made in one go is drafted here (keyed by edge, without adjacency) and laid out
    as a DiGraph once, its attribute dicts taken over as they are."""

    def __init__(self) -> None:
        self.nodes: dict[str, dict[str, Any]] = {}
        self.edges: dict[tuple[str, str], dict[str, Any]] = {}

    def add_node(self, node: str, **attrs: Any) -> None:
        existing = self.nodes.get(node)
        if existing is None:
            self.nodes[node] = attrs
        else:
            for key, value in attrs.items():
                if value is not None:
                    existing[key] = value

    def add_edge(
        self,
        src: str,
        dst: str,
        kind: str,
        fields: tuple[str, ...] | None = None,
        loose: bool = False,
    ) -> None:
        data = self.edges.get((src, dst))
        if data is None:
            self.nodes.setdefault(src, {})
            self.nodes.setdefault(dst, {})
            data = self.edges[src, dst] = {"kind": kind}
            if fields is not None:
                data["fields"] = fields
            if loose:
                data["loose"] = True
            return
        _merge_edge(data, fields, loose)

    def attrs(self, node: str) -> dict[str, Any]:
        return dict(self.nodes.get(node, {}))

    def graph(self) -> LineageGraph:
        graph = LineageGraph()
        graph._g = DiGraph.from_dicts(self.nodes, self.edges)
        for node in self.nodes:
            graph._index(node)
        return graph


def graph_from_catalog(*catalogs: Catalog) -> LineageGraph:
    """The lineage a catalog's SQL defines; of several catalogs, merged in order (the
    same graph as ``merge`` of each one's, drafted in one go)."""
    graph = _Draft()
    drafted: set[tuple[str, int]] = set()
    for catalog in catalogs:
        _draft_catalog(graph, catalog, drafted)
    return graph.graph()


def _draft_catalog(graph: _Draft, catalog: Catalog, drafted: set[tuple[str, int]]) -> None:
    for name, dataset in catalog.datasets.items():
        # one Dataset object in both revisions (the cache shares an unchanged one): drafting
        # it again would only add what is there (its nodes and edges end in its own nodes)
        if (name, id(dataset)) in drafted:
            continue
        drafted.add((name, id(dataset)))
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
            model=consumer.model,
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


def add_lineage(
    graph: LineageGraph, name: str, lineage: Lineage, target: str | None = None
) -> None:
    """Edges of one statement's lineage into ``name`` (its output columns ``name#col``, or
    ``target#col`` for an INSERT job writing ``target``)."""
    _add_lineage(graph, name, lineage, target)


def _add_lineage(
    graph: LineageGraph | _Draft, name: str, lineage: Lineage, target: str | None = None
) -> None:
    out = target or name
    narrow = {src: tuple(sorted(f)) for src, f in lineage.field_reads.items()}
    checked = {use.source for use in lineage.field_uses if not use.loose}
    loose = ({use.source for use in lineage.field_uses if use.loose} - checked) & set(narrow)
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
                graph.add_edge(column_id(*src), name, "clause", narrow.get(src), src in loose)
            graph.add_edge(
                column_id(*src), column_id(out, col), "projection", narrow.get(src), src in loose
            )
    for clause in sorted(lineage.clauses):
        for src in lineage.clauses[clause]:
            graph.add_node(column_id(*src), kind="column", dataset=src[0])
            graph.add_edge(src[0], column_id(*src), "has")
            graph.add_edge(column_id(*src), name, f"clause:{clause}", narrow.get(src), src in loose)
    for src in lineage.missing:
        if src[0]:
            graph.add_node(column_id(*src), kind="column", dataset=src[0])
            graph.add_edge(column_id(*src), name, "clause")
    # read, but reaching neither an output column nor a clause (a CTE column the outer
    # query leaves out): the engine still binds it, so its absence breaks the dataset
    reached = set().union(*lineage.columns.values(), *lineage.clauses.values())
    for src in sorted(lineage.referenced - reached - lineage.missing):
        if src[0] and src[1] != "*":
            graph.add_node(column_id(*src), kind="column", dataset=src[0])
            graph.add_edge(src[0], column_id(*src), "has")
            graph.add_edge(column_id(*src), name, "binds", narrow.get(src), src in loose)


@dataclass
class MergeStats:
    """What merging one fragment did, for the report's ``sources`` entry."""

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


REPO_ORIGINS = ("sql", "dbt")  # nodes the repository itself defines


def merge_fragment(graph: LineageGraph, fragment: GraphFragment, derived: set[str]) -> MergeStats:
    """Merge a source's GraphFragment into ``graph``.

    Relation names are matched onto the repository's (exactly, else by an unambiguous
    suffix, reported). The repository's own lineage wins for the datasets it derives
    (``derived``): the fetched graph describes production (base), the SQL describes head.
    A table-level ``reads`` of a relation becomes an ``exposure`` edge from each of its
    known columns, so column changes reach consumers whose column use is unknown.
    """
    from impact_check.identity import Matcher, is_asset

    repo = {
        n for n, a in graph.g.nodes(data=True) if "#" not in n and a.get("origin") in REPO_ORIGINS
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
        if node.sql:  # the consumer's own query: carried.py binds it like a view
            attrs.update(sql=node.sql, sql_dialect=node.dialect)
            attrs["declared_columns"] = list(node.columns) or None
        if node_id in graph:
            existing = graph.attrs(node_id)
            attrs = {k: v for k, v in attrs.items() if existing.get(k) in (None, [], {})}
            if existing.get("origin") in REPO_ORIGINS:
                attrs.pop("origin", None)
                attrs.pop("kind", None)
        graph.add_node(node_id, **attrs)
        if relation not in repo:
            for column, col_type in node.columns.items():
                col = column_id(node_id, column)
                graph.add_node(
                    col, kind="column", dataset=node_id, origin=node.origin, type=col_type
                )
                graph.add_edge(node_id, col, "has")
    for edge in fragment.edges:
        src, dst = matcher.node(edge.src), matcher.node(edge.dst)
        if src in own_jobs or dst in own_jobs:
            continue
        if dst.split("#", 1)[0] in derived and edge.kind != "has":
            stats.overridden += 1
            continue
        for end in (src, dst):
            if end not in graph:
                dataset = end.split("#", 1)[0]
                graph.add_node(end, kind="column" if "#" in end else "table", dataset=dataset)
                if "#" in end:
                    graph.add_node(dataset)
                    graph.add_edge(dataset, end, "has")
                if not is_asset(dataset) and dataset not in repo:
                    external.add(dataset)
        if graph.g.has_edge(src, dst) and graph.g.edges[src, dst].get("kind") == "exposure":
            # a table-level read made every column an exposure; column lineage says more
            graph.g.edges[src, dst]["kind"] = edge.kind
        graph.add_edge(src, dst, edge.kind)
        if edge.kind == "reads" and "#" not in src:
            for col in graph.columns_of(src):
                graph.add_edge(col, dst, "exposure")
    stats.suffix_matches = dict(matcher.suffix_matches)
    stats.ambiguous = set(matcher.ambiguous)
    stats.external = len(external)
    return stats


def _own_jobs(fragment: GraphFragment, matcher: Any, derived: set[str]) -> set[str]:
    """Fetched jobs every output of which the repository derives: the repository's own
    builds (a dbt-ol run of this project), described by its SQL, not consumers of it."""
    writes: dict[str, set[str]] = {}
    for edge in fragment.edges:
        if edge.kind == "writes":
            writes.setdefault(matcher.node(edge.src), set()).add(matcher.node(edge.dst))
    return {job for job, outputs in writes.items() if outputs <= derived}


def merge_same_models(graph: LineageGraph) -> dict[str, str]:
    """Make the ``ml_model`` nodes that name one registered model one node (identity.py).

    A dbt ``ml`` exposure, a DataHub mlModel/mlModelGroup and an MLflow (or MLmodel)
    version of a model otherwise stay three consumers with one owner each. Each version
    gets one node: the ``mlflow:`` node, else a fetched one (its lineage then counts as
    fetched lineage in external.py), else the first; a node naming no version joins the
    newest version. Two versions are never merged. Returns merged id -> the id it joined.
    """
    from impact_check.identity import ModelIdentity, model_identity

    models = [
        (n, a) for n, a in graph.g.nodes(data=True) if a.get("kind") == "ml_model" and "#" not in n
    ]
    known = {i.name for n, a in models if (i := model_identity(n, a)) and a.get("model")}
    groups: dict[str, list[tuple[str, ModelIdentity]]] = {}
    for node, attrs in models:
        identity = model_identity(node, attrs, known)
        if identity is not None:
            groups.setdefault(identity.name, []).append((node, identity))
    into: dict[str, str] = {}
    for members in groups.values():
        if len(members) > 1:
            into.update(_merge_targets(graph, members))
    for node, keeper in into.items():
        _absorb(graph, keeper, node)
    return into


def _merge_targets(graph: LineageGraph, members: list[tuple[str, Any]]) -> dict[str, str]:
    def rank(node: str) -> int:
        if node.startswith("mlflow:"):
            return 0
        return 2 if graph.attrs(node).get("origin") in REPO_ORIGINS else 1

    versions: dict[str, list[str]] = {}
    for node, identity in members:
        if identity.version is not None:
            versions.setdefault(identity.version, []).append(node)
    anchors = {v: min(nodes, key=rank) for v, nodes in versions.items()}
    unversioned = [n for n, i in members if i.version is None]
    newest = anchors[max(anchors, key=_version_order)] if anchors else min(unversioned, key=rank)
    targets = {n: anchors[i.version] if i.version is not None else newest for n, i in members}
    return {n: t for n, t in targets.items() if n != t}


def _version_order(version: str) -> tuple[int, int, str]:
    return (1, int(version), "") if version.isdigit() else (0, 0, version)


def _absorb(graph: LineageGraph, keeper: str, node: str) -> None:
    """Move ``node``'s edges, owners and attributes onto ``keeper`` and drop ``node``."""
    g = graph.g
    for src, data in list(g.pred[node].items()):
        _move_edge(graph, src, keeper, data.get("kind", "reads"))
    for dst, data in list(g.succ[node].items()):
        _move_edge(graph, keeper, dst, data.get("kind", "reads"))
    mine, theirs = g.nodes[keeper], g.nodes[node]
    mine["owners"] = list(
        dict.fromkeys([*(mine.get("owners") or []), *(theirs.get("owners") or [])])
    )
    mine["expects"] = {**(theirs.get("expects") or {}), **(mine.get("expects") or {})} or None
    known_as = [*(mine.get("also_known_as") or []), node, *(theirs.get("also_known_as") or [])]
    mine["also_known_as"] = known_as
    sources = mine.setdefault("known_from", [mine.get("origin") or "unknown"])
    for origin in [theirs.get("origin") or "unknown", *(theirs.get("known_from") or [])]:
        if origin not in sources:
            sources.append(origin)
    for key, value in theirs.items():
        if mine.get(key) in (None, "", [], {}) and value not in (None, "", [], {}):
            mine[key] = value
    label = mine.get("base_name") or mine.get("name") or keeper
    mine["base_name"] = label
    mine["name"] = f"{label} (known from {', '.join(sources)})"
    g.remove_node(node)


def _move_edge(graph: LineageGraph, src: str, dst: str, kind: str) -> None:
    if src == dst:
        return
    existing = graph.g.get_edge_data(src, dst)
    if existing is not None and existing.get("kind") == "exposure" and kind != "exposure":
        existing["kind"] = kind  # a known column use says more than a possible one
    graph.add_edge(src, dst, kind)
