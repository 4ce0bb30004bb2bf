"""Marquez over HTTP: the downstream lineage of the datasets the diff touches.

For each touched dataset (a canonical name) the source finds the Marquez datasets it
denotes (``GET /api/v1/search``, matched by canonical name through ``namespace`` and
``aliases``), then asks ``GET /api/v1/lineage`` (datasets and jobs) and
``GET /api/v1/column-lineage?withDownstream=true`` (dataset fields) from each, bounded by
``depth``. Only what lies downstream of the touched datasets, within ``depth`` hops, is kept.

Marquez quirks handled here (MarquezProject/marquez, ColumnLineageService, NodeId):
- node ids are ``:``-joined and namespaces hold colons (``postgres://h:5432``): they are
  split as Marquez does, on ``:`` not followed by ``//`` or digits;
- the two endpoints orient their edge lists differently (``/column-lineage`` puts the node
  itself as ``origin`` of both in- and out-edges), so direction comes from the payloads'
  own fields: a job's ``inputs``/``outputs`` and a field's ``inputFields``, never the edges.

Parsing (payload -> fragment) is pure and separate from fetching, so both are testable.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from impact_check.errors import SourceError
from impact_check.identity import canonical, same_relation_suffix
from impact_check.model import column_id
from impact_check.sources.base import (
    FragmentNode,
    GraphFragment,
    SourceContext,
    as_object,
    as_text,
)
from impact_check.sources.faults import Faults
from impact_check.sources.http import HttpClient, client_for

if TYPE_CHECKING:
    from impact_check.config import LineageSource

ORIGIN = "marquez"
UNKNOWN = "touched datasets Marquez does not know"
BEYOND_DEPTH = "downstream hops beyond depth not followed"
SEARCH_LIMIT = 100

_SPLIT = re.compile(r":(?!//|\d)")  # NodeId.parts: keep scheme://authority and host:port


@dataclass(frozen=True)
class NodeRef:
    """A parsed Marquez node id: ``dataset:<ns>:<name>``, ``job:<ns>:<name>``,
    ``datasetField:<ns>:<dataset>:<field>`` (a ``#<version>`` suffix is dropped)."""

    type: str
    namespace: str
    name: str
    field: str | None = None


def parse_node_id(value: str) -> NodeRef | None:
    """``value`` split as Marquez's NodeId.parts does; None when it is not a node id."""
    kind = value.split(":", 1)[0]
    expected = {"dataset": 3, "job": 3, "datasetField": 4}.get(kind)
    if expected is None:
        return None
    simple = re.split(r"[:#]", value)
    if len(simple) == expected:
        parts = simple
    else:
        parts, start = [], 0
        for match in _SPLIT.finditer(value):
            if len(parts) == expected - 1:
                break
            parts.append(value[start : match.start()])
            start = match.end()
        parts.append(value[start:])
        if len(parts) != expected:
            return None
        parts[-1] = _strip_version(parts[-1])
    if kind == "datasetField":
        return NodeRef(kind, parts[1], parts[2], parts[3])
    return NodeRef(kind, parts[1], parts[2])


_VERSION = re.compile(r"#[0-9a-fA-F-]{36}$")


def _strip_version(name: str) -> str:
    return _VERSION.sub("", name)


def dataset_node_id(namespace: str, name: str) -> str:
    return f"dataset:{namespace}:{name}"


# ---------------------------------------------------------------------------- parsing


def search_matches(
    payload: Any, touched: str, aliases: dict[str, str], namespace: str | None = None
) -> list[tuple[str, str]]:
    """The (namespace, name) of the search results that denote ``touched``.

    Exact canonical matches win; otherwise a result whose canonical name and ``touched``
    agree on their last two or more parts (one has a catalog the other lacks).
    """
    results = payload.get("results", []) if isinstance(payload, dict) else []
    exact, suffix = [], []
    for result in results:
        if not isinstance(result, dict) or str(result.get("type", "")).upper() != "DATASET":
            continue
        ns, name = result.get("namespace"), result.get("name")
        if not isinstance(ns, str) or not isinstance(name, str):
            continue
        if namespace is not None and ns != namespace:
            continue
        canon = canonical(name, ns, aliases)
        if canon == touched:
            exact.append((ns, name))
        elif same_relation_suffix(canon, touched):
            suffix.append((ns, name))
    return sorted(set(exact or suffix))


@dataclass
class _Dataset:
    namespace: str
    name: str
    kind: str = "table"
    fields: dict[str, str | None] = field(default_factory=dict)


@dataclass
class _Job:
    namespace: str
    name: str
    inputs: list[tuple[str, str]] = field(default_factory=list)
    outputs: list[tuple[str, str]] = field(default_factory=list)
    location: str | None = None
    description: str | None = None


@dataclass
class MarquezGraph:
    """What one or more ``/lineage`` and ``/column-lineage`` answers said, deduplicated.

    Keys are Marquez (namespace, name) pairs; ``field_inputs`` maps a field
    (namespace, dataset, field) to the fields it is computed from (``inputFields``).
    """

    datasets: dict[tuple[str, str], _Dataset] = field(default_factory=dict)
    jobs: dict[tuple[str, str], _Job] = field(default_factory=dict)
    field_inputs: dict[tuple[str, str, str], set[tuple[str, str, str]]] = field(
        default_factory=dict
    )
    field_types: dict[tuple[str, str, str], str | None] = field(default_factory=dict)

    def add_lineage(self, payload: Any) -> None:
        """Datasets and jobs of a ``GET /lineage`` answer (``{"graph": [Node, …]}``)."""
        for node in _graph_nodes(payload):
            data = as_object(node.get("data"))
            kind = str(node.get("type") or data.get("type") or "").upper()
            ref = parse_node_id(str(node.get("id", "")))
            if kind == "JOB" or (ref is not None and ref.type == "job"):
                self._add_job(node, data, ref)
            elif kind in ("DATASET", "DB_TABLE", "STREAM") or (ref and ref.type == "dataset"):
                self._add_dataset(data, ref)

    def _add_dataset(self, data: dict[str, Any], ref: NodeRef | None) -> None:
        ident = as_object(data.get("id"))
        ns = ident.get("namespace") or data.get("namespace") or (ref.namespace if ref else None)
        name = ident.get("name") or data.get("name") or (ref.name if ref else None)
        if not isinstance(ns, str) or not isinstance(name, str):
            return
        dataset = self.datasets.setdefault((ns, name), _Dataset(ns, name))
        if str(data.get("type", "")).upper() == "STREAM":
            dataset.kind = "stream"
        for column in data.get("fields") or []:
            if isinstance(column, dict) and isinstance(column.get("name"), str):
                dataset.fields[column["name"]] = column.get("type") or None

    def _add_job(self, node: dict[str, Any], data: dict[str, Any], ref: NodeRef | None) -> None:
        ident = as_object(data.get("id"))
        ns = ident.get("namespace") or data.get("namespace") or (ref.namespace if ref else None)
        name = ident.get("name") or data.get("name") or (ref.name if ref else None)
        if not isinstance(ns, str) or not isinstance(name, str):
            return
        job = self.jobs.setdefault((ns, name), _Job(ns, name))
        job.location = job.location or as_text(data.get("location"))
        job.description = job.description or as_text(data.get("description"))
        inputs, outputs = _dataset_ids(data.get("inputs")), _dataset_ids(data.get("outputs"))
        if "inputs" not in data and "outputs" not in data:
            # Only /lineage orients its edges as data flow; used when the job data lacks
            # its inputs and outputs (older servers), never for /column-lineage.
            inputs = _edge_datasets(node.get("inEdges"), "origin")
            outputs = _edge_datasets(node.get("outEdges"), "destination")
        job.inputs = sorted(set(job.inputs) | set(inputs))
        job.outputs = sorted(set(job.outputs) | set(outputs))

    def add_column_lineage(self, payload: Any) -> None:
        """Dataset fields of a ``GET /column-lineage`` answer, oriented by ``inputFields``."""
        for node in _graph_nodes(payload):
            data = as_object(node.get("data"))
            ref = parse_node_id(str(node.get("id", "")))
            ns = data.get("namespace") or (ref.namespace if ref else None)
            dataset = data.get("dataset") or (ref.name if ref else None)
            name = data.get("field") or (ref.field if ref else None)
            if not (isinstance(ns, str) and isinstance(dataset, str) and isinstance(name, str)):
                continue
            key = (ns, dataset, name)
            if data.get("fieldType"):
                self.field_types[key] = str(data["fieldType"])
            inputs = self.field_inputs.setdefault(key, set())
            for source in data.get("inputFields") or []:
                if not isinstance(source, dict):
                    continue
                parts = (source.get("namespace"), source.get("dataset"), source.get("field"))
                if all(isinstance(p, str) and p for p in parts):
                    inputs.add(parts)  # type: ignore[arg-type]


def _graph_nodes(payload: Any) -> list[dict[str, Any]]:
    graph = payload.get("graph") if isinstance(payload, dict) else None
    return [n for n in graph or [] if isinstance(n, dict)] if isinstance(graph, list) else []


def _dataset_ids(value: Any) -> list[tuple[str, str]]:
    out = []
    for item in value or []:
        if isinstance(item, dict):
            ns, name = item.get("namespace"), item.get("name")
            if isinstance(ns, str) and isinstance(name, str):
                out.append((ns, name))
    return out


def _edge_datasets(edges: Any, end: str) -> list[tuple[str, str]]:
    out = []
    for edge in edges or []:
        ref = parse_node_id(str(edge.get(end, ""))) if isinstance(edge, dict) else None
        if ref is not None and ref.type == "dataset":
            out.append((ref.namespace, ref.name))
    return out


def build_fragment(
    graph: MarquezGraph,
    starts: set[tuple[str, str]],
    depth: int,
    aliases: dict[str, str],
    fragment: GraphFragment,
) -> GraphFragment:
    """The part of ``graph`` downstream of ``starts`` within ``depth`` hops, as a fragment.

    A hop is a job (``/lineage``) or a field-to-field step (``/column-lineage``). Jobs are
    ``marquez:<ns>/<job>`` nodes: ``reads`` from their inputs, ``writes`` to their outputs,
    and ``column`` edges from the input columns their outputs' columns are computed from.
    """
    names: dict[tuple[str, str], str] = {}

    def relation(key: tuple[str, str]) -> str:
        if key not in names:
            names[key] = canonical(key[1], key[0], aliases)
        return names[key]

    readers: dict[tuple[str, str], list[_Job]] = {}
    writers: dict[tuple[str, str], list[_Job]] = {}
    for job in graph.jobs.values():
        for ds in job.inputs:
            readers.setdefault(ds, []).append(job)
        for ds in job.outputs:
            writers.setdefault(ds, []).append(job)

    reached_datasets = set(starts)
    reached_jobs: set[tuple[str, str]] = set()
    queue = deque((ds, 0) for ds in sorted(starts))
    while queue:
        ds, hops = queue.popleft()
        for job in readers.get(ds, []):
            key = (job.namespace, job.name)
            if hops >= depth:
                fragment.count(BEYOND_DEPTH)
                continue
            if key in reached_jobs:
                continue
            reached_jobs.add(key)
            for out in job.outputs:
                if out not in reached_datasets:
                    reached_datasets.add(out)
                    queue.append((out, hops + 1))

    projections = _downstream_fields(graph, starts, depth, fragment)
    for endpoint in {f for edge in projections for f in edge}:
        reached_datasets.add((endpoint[0], endpoint[1]))

    for key in sorted(reached_datasets):
        dataset = graph.datasets.get(key, _Dataset(*key))
        columns = dict(dataset.fields)
        for (field_ns, field_ds, col), col_type in graph.field_types.items():
            if (field_ns, field_ds) == key:
                columns.setdefault(col, col_type)
        fragment.node(
            FragmentNode(
                relation(key),
                dataset.kind,
                ORIGIN,
                name=key[1],
                columns=columns,
                attrs={"marquez_id": dataset_node_id(*key), "namespace": key[0]},
            )
        )
    for key in sorted(reached_jobs):
        job = graph.jobs[key]
        job_id = job_node_id(job.namespace, job.name)
        fragment.node(
            FragmentNode(
                job_id,
                "job",
                ORIGIN,
                name=job.name,
                url=job.location,
                attrs={"marquez_id": f"job:{job.namespace}:{job.name}", "namespace": key[0]},
            )
        )
        for ds in job.inputs:
            if ds in reached_datasets:
                fragment.edge(relation(ds), job_id, "reads")
        for ds in job.outputs:
            fragment.edge(job_id, relation(ds), "writes")
            if ds not in reached_datasets:
                fragment.node(FragmentNode(relation(ds), "table", ORIGIN, name=ds[1]))
    for src, dst in sorted(projections):
        src_col, dst_col = (
            column_id(relation(src[:2]), src[2]),
            column_id(relation(dst[:2]), dst[2]),
        )
        if src_col != dst_col:
            fragment.edge(src_col, dst_col, "projection")
        for job in writers.get(dst[:2], []):
            if (job.namespace, job.name) in reached_jobs and src[:2] in job.inputs:
                fragment.edge(src_col, job_node_id(job.namespace, job.name), "column")
    return fragment


def _downstream_fields(
    graph: MarquezGraph, starts: set[tuple[str, str]], depth: int, fragment: GraphFragment
) -> set[tuple[tuple[str, str, str], tuple[str, str, str]]]:
    """(input field, output field) pairs reachable from the fields of ``starts``."""
    consumers: dict[tuple[str, str, str], set[tuple[str, str, str]]] = {}
    for out, inputs in graph.field_inputs.items():
        for source in inputs:
            consumers.setdefault(source, set()).add(out)
    frontier = [f for f in consumers if f[:2] in starts]
    frontier += [f for f in graph.field_inputs if f[:2] in starts and f not in consumers]
    seen = set(frontier)
    edges = set()
    queue = deque((f, 0) for f in sorted(frontier))
    while queue:
        current, hops = queue.popleft()
        for out in sorted(consumers.get(current, ())):
            if hops >= depth:
                fragment.count(BEYOND_DEPTH)
                continue
            edges.add((current, out))
            if out not in seen:
                seen.add(out)
                queue.append((out, hops + 1))
    return edges


def job_node_id(namespace: str, name: str) -> str:
    return f"{ORIGIN}:{namespace}/{name}"


# ---------------------------------------------------------------------------- fetching


def api_base(location: str) -> str:
    """The ``/api/v1`` base URL for a Marquez location (given with or without it)."""
    base = location.rstrip("/")
    return base if base.endswith("/api/v1") else base + "/api/v1"


def fetch(spec: LineageSource, ctx: SourceContext) -> GraphFragment:
    """Downstream lineage of ``ctx.touched`` from the Marquez at ``spec.location``."""
    fragment = GraphFragment(spec.name or f"marquez:{spec.location}", "marquez")
    if not ctx.touched:
        fragment.status = "skipped"
        fragment.detail = "the diff touches no dataset: nothing to look up"
        return fragment
    aliases = {**ctx.aliases, **spec.aliases}
    faults = Faults()
    graph = MarquezGraph()
    with client_for(spec, ctx, base_url=api_base(spec.location)) as client:
        touched = sorted(ctx.touched)
        found = _serial_then_map(
            client,
            lambda name: faults.attempt(lambda: _lookup(client, spec, name, aliases)),
            touched,
        )
        starts: set[tuple[str, str]] = set()
        for matches in found:
            if matches is None:
                continue
            if not matches:
                fragment.count(UNKNOWN)
            starts |= set(matches)
        queries = [(path, key) for key in sorted(starts) for path in ("lineage", "column-lineage")]
        answers = client.map(
            lambda q: faults.attempt(lambda: _graph(client, q[0], q[1], spec.depth)), queries
        )
    for (path, _key), answer in zip(queries, answers):
        if answer is None:
            continue
        if path == "lineage":
            graph.add_lineage(answer)
        else:
            graph.add_column_lineage(answer)
    build_fragment(graph, starts, spec.depth, aliases, fragment)
    return faults.finish(fragment, client)


def _serial_then_map(client: HttpClient, fn: Any, items: list[str]) -> list[Any]:
    # The first request runs alone: HttpClient builds its connection pool on first use.
    if not items:
        return []
    return [fn(items[0]), *client.map(fn, items[1:])]


def _lookup(
    client: HttpClient, spec: LineageSource, touched: str, aliases: dict[str, str]
) -> list[tuple[str, str]]:
    params: dict[str, Any] = {
        "q": touched.rsplit(".", 1)[-1],
        "filter": "dataset",
        "limit": int(spec.options.get("search_limit", SEARCH_LIMIT)),
    }
    if spec.namespace:
        params["namespace"] = spec.namespace
    payload = client.get_json("search", params)
    return search_matches(payload, touched, aliases, spec.namespace)


def _graph(client: HttpClient, path: str, key: tuple[str, str], depth: int) -> Any:
    params: dict[str, Any] = {"nodeId": dataset_node_id(*key), "depth": depth}
    if path == "column-lineage":
        params["withDownstream"] = "true"
    payload = client.get_json(path, params)
    if not isinstance(payload, dict) or not isinstance(payload.get("graph"), list):
        raise SourceError(f"{client.url(path)}: answer has no 'graph' list")
    return payload
