"""DataHub over GraphQL: what lies downstream of the datasets the diff touches.

For each touched dataset (a canonical name) the source finds its DataHub dataset URNs
(``searchAcrossEntities``, start/count pages; dbt and warehouse siblings both match), then
walks ``scrollAcrossLineage`` DOWNSTREAM (``nextScrollId`` pages) from each URN and from
each of its ``schemaField`` URNs, with the degree filter set from ``depth``. Results give
table-level paths, the ``fineGrainedLineages`` of downstream datasets, the ``inputFields``
(columns) of charts and dashboards, and owners. Dashboards, charts, ML models, ML features
and feature tables become consumer nodes ``datahub:<type>/<urn tail>`` with the URN kept.

URN parsing and the graph builder are shared with ``datahub_file`` (MCP/MCE files).
Parsing (payload -> fragment) is pure and separate from fetching.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

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

ORIGIN = "datahub"
BEYOND_DEPTH = "results beyond depth dropped"
UNKNOWN = "touched datasets DataHub does not know"
UNKNOWN_PLATFORM = "datasets on the 'unknown' platform skipped"
COLUMNS_NOT_WALKED = "columns not walked (options.max_columns)"
PAGE_CAP = "walks stopped at options.max_pages"

# entity type (GraphQL enum or URN entity name, lower-cased) -> node kind
KINDS = {
    "dashboard": "dashboard",
    "chart": "chart",
    "mlmodel": "ml_model",
    "ml_model": "ml_model",
    "mlmodelgroup": "ml_model",
    "ml_model_group": "ml_model",
    "mlfeature": "feature",
    "ml_feature": "feature",
    "mlprimarykey": "feature",
    "ml_primary_key": "feature",
    "mlfeaturetable": "feature_view",
    "ml_feature_table": "feature_view",
    "datajob": "job",
    "data_job": "job",
    "dataprocessinstance": "job",
    "data_process_instance": "job",
}
_ENVS = {"PROD", "DEV", "TEST", "QA", "UAT", "EI", "PRE", "STG", "NON_PROD", "CORP", "SANDBOX"}
_SKIP = {"query", "dataflow", "data_flow", "container", "tag", "corpuser", "assertion"}


# ---------------------------------------------------------------------------- URNs


@dataclass(frozen=True)
class Urn:
    """``urn:li:<entity>:<id>``; ``parts`` are the top-level items of a ``(…)`` id."""

    entity: str
    id: str
    parts: tuple[str, ...]


def parse_urn(value: str) -> Urn | None:
    if not isinstance(value, str) or not value.startswith("urn:li:"):
        return None
    entity, sep, ident = value[len("urn:li:") :].partition(":")
    if not sep:
        return None
    if ident.startswith("(") and ident.endswith(")"):
        return Urn(entity, ident, tuple(_split_top(ident[1:-1])))
    return Urn(entity, ident, (ident,))


def _split_top(text: str) -> list[str]:
    """Split on commas outside parentheses (URNs nest: schemaField holds a dataset URN)."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


_BRACKETS = re.compile(r"\[[^\]]*\]")


def platform_name(value: str) -> str:
    return value.removeprefix("urn:li:dataPlatform:")


def field_path(path: str) -> str:
    """A v2 field path (``[version=2.0].[type=struct].a.[type=int].b``) as ``a.b``."""
    if not path.startswith("["):
        return path
    return ".".join(p for p in _BRACKETS.sub("", path).split(".") if p)


def dataset_urn(platform: str, name: str, env: str = "PROD") -> str:
    return f"urn:li:dataset:(urn:li:dataPlatform:{platform},{name},{env})"


@dataclass
class Names:
    """Maps DataHub URNs onto fragment node ids (canonical names, ``datahub:`` assets)."""

    aliases: dict[str, str]

    def dataset(self, urn: str) -> str | None:
        """The canonical relation of a dataset URN; None for other URNs or 'unknown'."""
        parsed = parse_urn(urn)
        if parsed is None or parsed.entity != "dataset" or len(parsed.parts) < 2:
            return None
        platform = platform_name(parsed.parts[0])
        name = ",".join(parsed.parts[1:-1]) if len(parsed.parts) > 2 else parsed.parts[1]
        if platform == "unknown" and name == "unknown":
            return None
        key = platform if platform in self.aliases else parsed.parts[0]
        return canonical(name, key, self.aliases)

    def column(self, urn: str) -> tuple[str, str] | None:
        """(parent URN, field path) of a schemaField URN."""
        parsed = parse_urn(urn)
        if parsed is None or parsed.entity != "schemaField" or len(parsed.parts) != 2:
            return None
        return parsed.parts[0], field_path(parsed.parts[1])

    def node(self, urn: str) -> str | None:
        """The node id of any URN: relation, ``relation#column`` or ``datahub:`` asset."""
        column = self.column(urn)
        if column is not None:
            parent = self.node(column[0])
            if parent is None:
                return None
            return column_id(parent, column[1]) if "#" not in parent else parent
        parsed = parse_urn(urn)
        if parsed is None:
            return None
        if parsed.entity == "dataset":
            return self.dataset(urn)
        kind = KINDS.get(parsed.entity.lower())
        if kind is None:
            return None
        return f"{ORIGIN}:{kind}/{asset_tail(parsed)}"


def asset_tail(urn: Urn) -> str:
    """``(urn:li:dataPlatform:mlflow,churn_model_1,PROD)`` -> ``mlflow/churn_model_1``."""
    parts = list(urn.parts)
    if len(parts) > 1 and parts[-1] in _ENVS:
        parts = parts[:-1]
    return "/".join(platform_name(p) for p in parts)


def kind_of(urn: str) -> str | None:
    parsed = parse_urn(urn)
    if parsed is None:
        return None
    if parsed.entity == "dataset":
        return "table"
    if parsed.entity == "schemaField":
        return "column"
    return KINDS.get(parsed.entity.lower())


def owner_name(value: Any) -> str | None:
    """An owner from a URN string or a GraphQL owner object."""
    if isinstance(value, dict):
        owner = as_object(value.get("owner")) or value
        for key in ("username", "name", "urn"):
            if isinstance(owner.get(key), str):
                return owner_name(owner[key])
        return None
    if not isinstance(value, str):
        return None
    parsed = parse_urn(value)
    return parsed.id if parsed is not None else value


# ---------------------------------------------------------------------------- builder


@dataclass
class Builder:
    """Collects DataHub nodes and edges into a fragment, deduplicated.

    Table-level edges between two datasets that fine-grained (column) lineage also
    connects are dropped: the column edges say more, and a table-level edge would make
    every column change reach the downstream dataset.
    """

    names: Names
    fragment: GraphFragment
    nodes: dict[str, FragmentNode] = field(default_factory=dict)
    edges: dict[tuple[str, str], str] = field(default_factory=dict)

    def asset(
        self,
        urn: str,
        name: str | None = None,
        url: str | None = None,
        owners: list[str] | None = None,
        columns: dict[str, str | None] | None = None,
    ) -> str | None:
        """Add (or complete) the node for ``urn``; its node id, None when unmapped."""
        column = self.names.column(urn)
        if column is not None:
            node_id = self.names.node(urn)
            parent = self.asset(column[0])
            return node_id if node_id is not None and "#" in node_id else parent
        node_id = self.names.node(urn)
        if node_id is None:
            parsed = parse_urn(urn)
            if parsed is not None and parsed.entity == "dataset":
                self.fragment.count(UNKNOWN_PLATFORM)
            return None
        node = self.nodes.get(node_id)
        if node is None:
            node = FragmentNode(node_id, kind_of(urn) or "table", ORIGIN, attrs={"urn": urn})
            self.nodes[node_id] = node
        node.name = node.name or name
        node.url = node.url or url
        for owner in owners or []:
            if owner not in node.owners:
                node.owners.append(owner)
        for col, col_type in (columns or {}).items():
            node.columns.setdefault(col, col_type)
        node.attrs.setdefault("urns", [])
        if urn not in node.attrs["urns"]:
            node.attrs["urns"].append(urn)
        return node_id

    def link(self, src_urn: str, dst_urn: str) -> None:
        """An edge between two URNs, its kind from what they are (see module docstring)."""
        src, dst = self.asset(src_urn), self.asset(dst_urn)
        if src is None or dst is None or src == dst:
            return
        src_col, dst_col = "#" in src, "#" in dst
        if src_col and dst_col:
            kind = "projection"
        elif src_col:
            kind = "column"
        elif dst_col:
            dst = dst.split("#", 1)[0]
            kind = "writes" if kind_of(src_urn) == "job" else "reads"
        else:
            kind = "writes" if kind_of(src_urn) == "job" else "reads"
        if src != dst:
            self.edges.setdefault((src, dst), kind)

    def fine_grained(self, upstreams: list[str], downstreams: list[str]) -> None:
        for up in upstreams:
            for down in downstreams:
                self.link(up, down)

    def finish(self) -> GraphFragment:
        covered = {
            (s.split("#", 1)[0], d.split("#", 1)[0])
            for (s, d), k in self.edges.items()
            if k == "projection"
        }
        for node in self.nodes.values():
            self.fragment.node(node)
        for (src, dst), kind in sorted(self.edges.items()):
            if kind == "reads" and "#" not in src and (src, dst) in covered:
                continue
            self.fragment.edge(src, dst, kind)
        return self.fragment


# ---------------------------------------------------------------------------- GraphQL

_OWNERS = (
    "ownership { owners { owner { ... on CorpUser { username } ... on CorpGroup { name } } } }"
)
_ENTITY = (
    "urn type "
    "... on Dataset { name platform { name } " + _OWNERS + " "
    "schemaMetadata { fields { fieldPath nativeDataType } } "
    "fineGrainedLineages { upstreams { urn path } downstreams { urn path } } } "
    "... on Dashboard { properties { name externalUrl } " + _OWNERS + " "
    "inputFields { fields { schemaFieldUrn } } } "
    "... on Chart { properties { name externalUrl } " + _OWNERS + " "
    "inputFields { fields { schemaFieldUrn } } } "
    "... on MLModel { name properties { externalUrl } " + _OWNERS + " } "
    "... on MLModelGroup { name " + _OWNERS + " } "
    "... on MLFeature { name " + _OWNERS + " } "
    "... on MLPrimaryKey { name " + _OWNERS + " } "
    "... on MLFeatureTable { name " + _OWNERS + " } "
    "... on DataJob { properties { name externalUrl } " + _OWNERS + " }"
)
SCROLL_QUERY = (
    "query impactCheckDownstream($input: ScrollAcrossLineageInput!) { "
    "scrollAcrossLineage(input: $input) { nextScrollId count total "
    "searchResults { degree entity { " + _ENTITY + " } paths { path { urn type } } } } }"
)
SEARCH_QUERY = (
    "query impactCheckFind($input: SearchAcrossEntitiesInput!) { "
    "searchAcrossEntities(input: $input) { start count total "
    "searchResults { entity { urn type ... on Dataset { name platform { name } "
    "schemaMetadata { fields { fieldPath nativeDataType } } } } } } }"
)


def degree_values(depth: int) -> list[str]:
    """The ``degree`` filter values for a walk of ``depth`` hops ("3+" = 3 and beyond)."""
    return [str(d) for d in range(1, min(depth, 2) + 1)] + (["3+"] if depth >= 3 else [])


def scroll_input(
    urn: str, depth: int, count: int, scroll_id: str | None, columns: bool
) -> dict[str, Any]:
    """Variables of one ``scrollAcrossLineage`` page (as DataHub's own SDK builds them)."""
    variables: dict[str, Any] = {
        "urn": urn,
        "direction": "DOWNSTREAM",
        "count": count,
        "orFilters": [
            {
                "and": [
                    {"field": "degree", "condition": "EQUAL", "values": degree_values(depth)},
                    {"field": "removed", "condition": "EQUAL", "values": ["true"], "negated": True},
                ]
            }
        ],
    }
    if scroll_id:
        variables["scrollId"] = scroll_id
    if columns:
        variables["searchFlags"] = {
            "groupingSpec": {
                "groupingCriteria": {
                    "baseEntityType": "SCHEMA_FIELD",
                    "groupingEntityType": "SCHEMA_FIELD",
                }
            }
        }
    return {"input": variables}


def graphql_data(payload: Any, url: str, root: str) -> tuple[dict[str, Any], str | None]:
    """The ``data.<root>`` object of an answer, and the first GraphQL error, if any.

    Raises SourceError when there is no data at all (errors only, or a foreign shape).
    """
    if not isinstance(payload, dict):
        raise SourceError(f"{url}: GraphQL answer is not an object")
    errors = payload.get("errors") or []
    first = None
    if errors:
        err = errors[0]
        first = f"{url}: GraphQL error: {err.get('message') if isinstance(err, dict) else err}"
    data = payload.get("data")
    value = data.get(root) if isinstance(data, dict) else None
    if not isinstance(value, dict):
        raise SourceError(first or f"{url}: GraphQL answer has no data.{root}")
    return value, first


def dataset_matches(
    results: list[Any], touched: str, names: Names, platforms: list[str] | None = None
) -> list[tuple[str, dict[str, str | None]]]:
    """(URN, columns) of the search results that denote ``touched``: exact canonical
    matches, else matches on the last two or more name parts (catalog on one side only)."""
    exact, suffix = [], []
    for result in results:
        entity = result.get("entity") if isinstance(result, dict) else None
        if not isinstance(entity, dict) or not isinstance(entity.get("urn"), str):
            continue
        urn = entity["urn"]
        parsed = parse_urn(urn)
        if platforms and (parsed is None or platform_name(parsed.parts[0]) not in platforms):
            continue
        relation = names.dataset(urn)
        if relation is None:
            continue
        item = (urn, schema_columns(entity.get("schemaMetadata")))
        if relation == touched:
            exact.append(item)
        elif same_relation_suffix(relation, touched):
            suffix.append(item)
    return exact or suffix


def schema_columns(schema: Any) -> dict[str, str | None]:
    columns: dict[str, str | None] = {}
    for item in (schema or {}).get("fields") or [] if isinstance(schema, dict) else []:
        if isinstance(item, dict) and isinstance(item.get("fieldPath"), str):
            columns[field_path(item["fieldPath"])] = item.get("nativeDataType")
    return columns


def add_results(builder: Builder, start_urn: str, results: list[Any], depth: int) -> None:
    """Add one page of ``scrollAcrossLineage`` results (pure)."""
    for result in results:
        if not isinstance(result, dict):
            continue
        degree = result.get("degree")
        if isinstance(degree, int) and degree > depth:
            builder.fragment.count(BEYOND_DEPTH)
            continue
        entity = as_object(result.get("entity"))
        urn = entity.get("urn")
        if not isinstance(urn, str):
            continue
        add_entity(builder, entity)
        found = [p.get("path") for p in result.get("paths") or [] if isinstance(p, dict)]
        paths: list[list[Any]] = [p for p in found if isinstance(p, list) and p]
        for path in paths or [[{"urn": start_urn}, {"urn": urn}]]:
            hops = [h["urn"] for h in path if isinstance(h, dict) and isinstance(h.get("urn"), str)]
            # a QUERY (or other non-lineage entity) between two hops is bridged over
            kept = [
                h for h in hops if (parse_urn(h) or Urn("", "", ())).entity.lower() not in _SKIP
            ]
            for src, dst in itertools.pairwise(kept):
                builder.link(src, dst)


def add_entity(builder: Builder, entity: dict[str, Any]) -> None:
    """Node attributes, fine-grained lineage and chart/dashboard input columns of one
    GraphQL entity."""
    urn = entity["urn"]
    props = as_object(entity.get("properties"))
    owners = [
        o
        for o in (owner_name(x) for x in ((entity.get("ownership") or {}).get("owners") or []))
        if o
    ]
    builder.asset(
        urn,
        name=as_text(props.get("name")) or as_text(entity.get("name")),
        url=as_text(props.get("externalUrl")),
        owners=owners,
        columns=schema_columns(entity.get("schemaMetadata")),
    )
    for fgl in entity.get("fineGrainedLineages") or []:
        if not isinstance(fgl, dict):
            continue
        builder.fine_grained(_field_urns(fgl.get("upstreams")), _field_urns(fgl.get("downstreams")))
    for item in (entity.get("inputFields") or {}).get("fields") or []:
        if isinstance(item, dict) and isinstance(item.get("schemaFieldUrn"), str):
            builder.link(item["schemaFieldUrn"], urn)


def _field_urns(items: Any) -> list[str]:
    """GraphQL ``{urn, path}`` pairs (dataset URN + field path) as schemaField URNs."""
    out = []
    for item in items or []:
        if isinstance(item, dict) and isinstance(item.get("urn"), str):
            path = item.get("path")
            out.append(f"urn:li:schemaField:({item['urn']},{path})" if path else item["urn"])
        elif isinstance(item, str):
            out.append(item)
    return out


# ---------------------------------------------------------------------------- fetching


def graphql_url(location: str) -> str:
    """GMS ``/api/graphql`` (a location already ending in ``/graphql`` is kept)."""
    base = location.rstrip("/")
    return base if base.endswith("/graphql") else base + "/api/graphql"


@dataclass
class _Walker:
    client: HttpClient
    url: str
    spec: LineageSource
    names: Names
    faults: Faults
    count: int
    max_pages: int

    def find(self, touched: str) -> list[tuple[str, dict[str, str | None]]] | None:
        platforms = self.spec.options.get("platforms")
        results: list[Any] = []
        start = 0
        for _page in range(self.max_pages):
            variables = {
                "input": {
                    "types": ["DATASET"],
                    "query": touched.rsplit(".", 1)[-1],
                    "start": start,
                    "count": self.count,
                }
            }
            answer = self.faults.attempt(lambda v=variables: self._post(SEARCH_QUERY, v))  # type: ignore[misc]
            if answer is None:
                return None
            data = self._data(answer, "searchAcrossEntities")
            if data is None:
                return None
            page = data.get("searchResults") or []
            results += page
            start += len(page)
            total = data.get("total")
            if not page or not isinstance(total, int) or start >= total:
                break
        return dataset_matches(results, touched, self.names, platforms)

    def walk(self, urn: str, columns: bool) -> list[Any] | None:
        results: list[Any] = []
        scroll_id = None
        for _page in range(self.max_pages):
            variables = scroll_input(urn, self.spec.depth, self.count, scroll_id, columns)
            answer = self.faults.attempt(lambda v=variables: self._post(SCROLL_QUERY, v))  # type: ignore[misc]
            if answer is None:
                return results or None
            data = self._data(answer, "scrollAcrossLineage")
            if data is None:
                return results or None
            results += data.get("searchResults") or []
            scroll_id = data.get("nextScrollId")
            if not scroll_id:
                return results
        self.faults.add(
            f"{self.url}: {urn}: more than {self.max_pages} pages of "
            f"{self.count} results; the rest was not read ({PAGE_CAP})"
        )
        return results

    def _post(self, query: str, variables: dict[str, Any]) -> Any:
        return self.client.post_json(self.url, {"query": query, "variables": variables})

    def _data(self, answer: Any, root: str) -> dict[str, Any] | None:
        url = self.url
        try:
            data, error = graphql_data(answer, url, root)
        except SourceError as err:
            self.faults.add(str(err))
            return None
        if error:
            self.faults.add(error)
        return data


def fetch(spec: LineageSource, ctx: SourceContext) -> GraphFragment:
    """Downstream lineage of ``ctx.touched`` from the DataHub GMS at ``spec.location``."""
    fragment = GraphFragment(spec.name or f"datahub:{spec.location}", "datahub")
    if not ctx.touched:
        fragment.status = "skipped"
        fragment.detail = "the diff touches no dataset: nothing to look up"
        return fragment
    names = Names({**ctx.aliases, **spec.aliases})
    builder = Builder(names, fragment)
    faults = Faults()
    options = spec.options
    max_columns = int(options.get("max_columns", 100))
    walk_columns = bool(options.get("column_lineage", True))
    with client_for(spec, ctx) as client:
        walker = _Walker(
            client,
            graphql_url(spec.location),
            spec,
            names,
            faults,
            count=int(options.get("page_size", 500)),
            max_pages=int(options.get("max_pages", 20)),
        )
        touched = sorted(ctx.touched)
        found = [walker.find(touched[0]), *client.map(walker.find, touched[1:])]
        walks: list[tuple[str, str, bool]] = []  # (start URN, walked URN, column walk)
        for matches in found:
            if matches is None:
                continue
            if not matches:
                fragment.count(UNKNOWN)
            for urn, columns in matches:
                builder.asset(urn, columns=columns)
                walks.append((urn, urn, False))
                if not walk_columns:
                    continue
                fields = sorted(columns)
                if len(fields) > max_columns:
                    fragment.count(COLUMNS_NOT_WALKED, len(fields) - max_columns)
                walks += [
                    (urn, f"urn:li:schemaField:({urn},{f})", True) for f in fields[:max_columns]
                ]
        pages = client.map(lambda w: walker.walk(w[1], w[2]), walks)
    for (_start, walked, _cols), results in zip(walks, pages):
        if results is not None:
            add_results(builder, walked, results, spec.depth)
    builder.finish()
    if options.get("frontend_url"):
        _links(fragment, str(options["frontend_url"]))
    return faults.finish(fragment, client)


_PAGES = {
    "dashboard": "dashboard",
    "chart": "chart",
    "ml_model": "mlModels",
    "feature": "features",
    "feature_view": "featureTables",
    "job": "tasks",
    "table": "dataset",
}


def _links(fragment: GraphFragment, frontend: str) -> None:
    """Links into the DataHub UI for nodes without an external URL."""
    for node in fragment.nodes:
        urn = node.attrs.get("urn")
        page = _PAGES.get(node.kind)
        if node.url is None and isinstance(urn, str) and page:
            node.url = f"{frontend.rstrip('/')}/{page}/{quote(urn, safe='')}"
