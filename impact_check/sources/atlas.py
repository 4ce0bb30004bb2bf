"""Apache Atlas v2 lineage (and Microsoft Purview's compatible Data Map API): processes,
tables, columns and other assets downstream of the tables the diff touches.

For each touched table the source finds its entity (``GET {api}/entity/uniqueAttribute/
type/{type}?attr:qualifiedName=…``, with its column entities in ``referredEntities``), then
asks ``GET {api}/lineage/{guid}?direction=OUTPUT&depth=N`` for the table and for each of its
columns (``options.max_columns``) -> ``AtlasLineageInfo {guidEntityMap{guid: {typeName,
attributes{qualifiedName, name, owner}}}, relations[{fromEntityId, toEntityId}]}``.

- ``{api}`` is ``/api/atlas/v2``; Purview: ``options.api_path: datamap/api/atlas/v2`` and
  ``options.api_version`` (sent as ``api-version``), with a bearer token (``token_env``).
  Atlas: basic auth (``username_env``/``password_env``) or a token.
- The touched table's qualifiedName comes from ``options.qualified_name``, a template over
  ``{name}`` (the canonical name), ``{database}``, ``{schema}``, ``{table}`` and
  ``{namespace}``; default ``{name}@{namespace}`` (Hive: ``shop.orders@primary``).
- Back to canonical names: ``db.table@cluster`` -> ``db.table`` (``aliases`` keyed by the
  cluster), URI names (``mssql://server/db/schema/table``) as Airflow's; a column entity's
  name is its table's plus ``.column`` (or ``#column``).
- Relations alternate dataset -> process -> dataset: a process (``hive_process``,
  ``spark_process``…) reads its inputs and writes its outputs; a column-lineage process
  (``hive_column_lineage``…) between columns is a ``projection``; another process reading a
  column has a ``column`` edge; other assets (reports, dashboards) read what points to them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from impact_check.errors import SourceError
from impact_check.identity import canonical_in, name_parts, uri_relation
from impact_check.model import column_id
from impact_check.sources.base import GraphFragment, SourceContext, as_object, as_text
from impact_check.sources.collect import Collector, skipped
from impact_check.sources.faults import Faults
from impact_check.sources.http import HttpClient, HttpStatusError, client_for

if TYPE_CHECKING:
    from impact_check.config import LineageSource

ORIGIN = "atlas"
UNKNOWN = "touched tables Atlas does not know"
COLUMNS_NOT_WALKED = "columns not walked (options.max_columns)"
UNNAMED = "entities without a usable qualifiedName skipped"


@dataclass
class Header:
    """An AtlasEntityHeader: guid, type, qualified name, display name, owner."""

    guid: str
    type: str
    qualified_name: str
    name: str | None = None
    owner: str | None = None

    @property
    def role(self) -> str:
        """column, column_process, process, dataset or asset (by the type's name)."""
        kind = self.type.lower()
        if kind.endswith("_column") or kind == "column":
            return "column"
        if kind.endswith("_column_lineage"):
            return "column_process"
        if "process" in kind or kind.endswith(("_activity", "_job")):
            return "process"
        if kind.endswith(("_table", "_view", "_dataset", "_topic")) or kind == "dataset":
            return "dataset"
        return "asset"


def header(value: Any) -> Header | None:
    data = as_object(value)
    attrs = as_object(data.get("attributes"))
    guid, kind = as_text(data.get("guid")), as_text(data.get("typeName"))
    qualified = as_text(attrs.get("qualifiedName")) or as_text(
        as_object(data.get("uniqueAttributes")).get("qualifiedName")
    )
    if not (guid and kind and qualified):
        return None
    name = as_text(attrs.get("name")) or as_text(data.get("displayText"))
    return Header(guid, kind, qualified, name, as_text(attrs.get("owner")))


def split_qualified(qualified: str) -> tuple[str, str | None]:
    """(name, namespace) of a qualifiedName: ``db.t@cluster`` or a URI."""
    if "://" in qualified:
        parsed = uri_relation(qualified.split("#", 1)[0])
        if parsed is not None:
            return parsed[1], parsed[0]
    name, at, cluster = qualified.rpartition("@")
    return (name, cluster) if at else (qualified, None)


@dataclass
class Names:
    """Canonical ids of Atlas entities."""

    aliases: dict[str, str]

    def relation(self, qualified: str) -> str | None:
        name, namespace = split_qualified(qualified)
        if not name or len(name_parts(name)) < 2:
            return None
        keys = [k for k in (namespace, namespace.split("://", 1)[0] if namespace else None) if k]
        return canonical_in(name, [*keys, ORIGIN], self.aliases)

    def column(self, qualified: str) -> str | None:
        """``relation#column`` of a column entity's qualifiedName."""
        if "://" in qualified and "#" in qualified:
            table, _, col = qualified.rpartition("#")
            relation = self.relation(table)
            return column_id(relation, col) if relation and col else None
        name, namespace = split_qualified(qualified)
        table, dot, col = name.rpartition(".")
        relation = self.relation(f"{table}@{namespace}" if namespace else table) if dot else None
        return column_id(relation, col) if relation and col else None

    def node(self, entity: Header) -> str | None:
        role = entity.role
        if role == "dataset":
            return self.relation(entity.qualified_name)
        if role == "column":
            return self.column(entity.qualified_name)
        if role == "column_process":
            return None
        kind = "process" if role == "process" else entity.type.lower()
        return f"{ORIGIN}:{kind}/{entity.qualified_name}"


# words in a type name -> node kind of a consumer that is neither a process nor a dataset
_KINDS: tuple[tuple[str, str], ...] = (
    ("dashboard", "dashboard"),
    ("report", "dashboard"),
    ("workbook", "dashboard"),
    ("chart", "chart"),
    ("model", "ml_model"),
    ("notebook", "notebook"),
)


def asset_kind(entity: Header) -> str:
    if entity.role == "process":
        return "job"
    if entity.role == "dataset":
        return "view" if entity.type.lower().endswith("_view") else "table"
    return next((k for word, k in _KINDS if word in entity.type.lower()), "application")


def add_lineage(out: Collector, names: Names, payload: Any, fragment: GraphFragment) -> None:
    """One AtlasLineageInfo answer into the collector (pure)."""
    data = as_object(payload)
    entities: dict[str, Header] = {}
    for guid, value in as_object(data.get("guidEntityMap")).items():
        entity = header({"guid": guid, **as_object(value)})
        if entity is None:
            fragment.count(UNNAMED)
            continue
        entities[guid] = entity
    ids = {guid: names.node(e) for guid, e in entities.items()}
    for guid, entity in entities.items():
        node_id = ids[guid]
        if node_id is None or entity.role == "column":
            continue
        out.node(
            node_id,
            asset_kind(entity),
            name=entity.name,
            owners=[entity.owner] if entity.owner else [],
            attrs={"guid": guid, "type_name": entity.type, "qualified_name": entity.qualified_name},
        )
    inputs: dict[str, set[str]] = {}
    outputs: dict[str, set[str]] = {}
    for relation in data.get("relations") or []:
        relation = as_object(relation)
        src, dst = str(relation.get("fromEntityId")), str(relation.get("toEntityId"))
        if src not in entities or dst not in entities:
            continue
        outputs.setdefault(src, set()).add(dst)
        inputs.setdefault(dst, set()).add(src)
    for guid, entity in entities.items():
        if entity.role == "column_process":  # column -> process -> column: a projection
            for src in inputs.get(guid, ()):
                for dst in outputs.get(guid, ()):
                    if ids[src] and ids[dst]:
                        out.edge(str(ids[src]), str(ids[dst]), "projection")
            continue
        for dst in outputs.get(guid, ()):
            _link(out, entity, entities[dst], ids[guid], ids[dst])


def _link(out: Collector, src: Header, dst: Header, src_id: str | None, dst_id: str | None) -> None:
    if src_id is None or dst_id is None or dst.role == "column_process":
        return
    if src.role == "column" and dst.role == "column":
        out.edge(src_id, dst_id, "projection")
    elif src.role == "column":
        out.edge(src_id, dst_id.split("#", 1)[0] if dst.role == "column" else dst_id, "column")
    elif src.role == "process":
        out.edge(src_id, dst_id.split("#", 1)[0], "writes")
    else:
        out.edge(src_id, dst_id.split("#", 1)[0], "reads")


# ---------------------------------------------------------------------------- fetching


def qualified_name(template: str, name: str, namespace: str | None) -> str:
    """The touched table's qualifiedName from ``options.qualified_name``."""
    parts = name_parts(name)
    fields = {
        "name": name,
        "table": parts[-1],
        "schema": parts[-2] if len(parts) >= 2 else "",
        "database": parts[-3] if len(parts) >= 3 else (parts[0] if len(parts) == 2 else ""),
        "namespace": namespace or "",
    }
    try:
        return template.format(**fields)
    except (KeyError, IndexError, ValueError) as err:
        raise SourceError(
            f"options.qualified_name {template!r}: {err} (fields: {', '.join(fields)})"
        ) from err


def fetch(spec: LineageSource, ctx: SourceContext) -> GraphFragment:
    """Downstream lineage of ``ctx.touched`` from the Atlas (or Purview) at ``spec.location``."""
    fragment = GraphFragment(spec.name or f"atlas:{spec.location}", "atlas")
    if not ctx.touched:
        return skipped(fragment)
    options = spec.options
    api = str(options.get("api_path", "api/atlas/v2")).strip("/")
    type_name = str(options.get("type_name", "hive_table"))
    default = "{name}@{namespace}" if spec.namespace else "{name}"
    template = str(options.get("qualified_name", default))
    extra = {"api-version": str(options["api_version"])} if options.get("api_version") else {}
    names = Names({**ctx.aliases, **spec.aliases})
    out = Collector(fragment, ORIGIN)
    faults = Faults()
    walker = _Walker(api, extra, spec.depth, faults)
    with client_for(spec, ctx, base_url=spec.location.rstrip("/")) as client:
        walker.client = client
        wanted = [qualified_name(template, t, spec.namespace) for t in sorted(ctx.touched)]
        found = client.map(lambda q: faults.attempt(lambda: walker.entity(type_name, q)), wanted)
        guids: list[str] = []
        max_columns = int(options.get("max_columns", 100))
        for answer in found:
            if answer is None:
                continue
            if not answer:
                fragment.count(UNKNOWN)
                continue
            table, columns = answer
            guids.append(table)
            if options.get("column_lineage", True):
                if len(columns) > max_columns:
                    fragment.count(COLUMNS_NOT_WALKED, len(columns) - max_columns)
                guids += columns[:max_columns]
        answers = client.map(lambda g: faults.attempt(lambda: walker.lineage(g)), guids)
    for payload in answers:
        if payload is not None:
            add_lineage(out, names, payload, fragment)
    out.finish()
    return faults.finish(fragment, client)


@dataclass
class _Walker:
    api: str
    extra: dict[str, str]
    depth: int
    faults: Faults
    client: HttpClient | None = None
    _columns: dict[str, list[str]] = field(default_factory=dict)

    def entity(self, type_name: str, qualified: str) -> tuple[str, list[str]] | tuple[()]:
        """The table's guid and its columns' guids; () when Atlas does not know it."""
        assert self.client is not None
        path = f"{self.api}/entity/uniqueAttribute/type/{quote(type_name, safe='')}"
        try:
            answer = self.client.get_json(path, {"attr:qualifiedName": qualified, **self.extra})
        except HttpStatusError as err:
            if err.status == 404:
                return ()
            raise
        entity = as_object(as_object(answer).get("entity"))
        guid = as_text(entity.get("guid"))
        if guid is None:
            return ()
        columns = []
        for ref in as_object(entity.get("attributes")).get("columns") or []:
            col = as_text(as_object(ref).get("guid"))
            if col:
                columns.append(col)
        return guid, columns

    def lineage(self, guid: str) -> Any:
        assert self.client is not None
        path = f"{self.api}/lineage/{quote(guid, safe='')}"
        params = {"direction": "OUTPUT", "depth": self.depth, **self.extra}
        return self.client.get_json(path, params)
