"""Databricks Unity Catalog lineage: tables, columns, notebooks, jobs, dashboards, queries
and pipelines downstream of the tables the diff touches.

Two ways to read it, both through the one HTTP client with a bearer token (``token_env``):

- REST (default): ``GET /api/2.0/lineage-tracking/table-lineage?table_name=<c.s.t>
  &include_entity_lineage=true`` one hop at a time up to ``depth`` (a downstream item
  with ``tableInfo`` is a table written from this one by the entities listed beside it;
  one without is an entity that only reads it), ``GET …/column-lineage?table_name=
  &column_name=`` for each column of the touched tables (``options.max_columns``) and of
  the columns that reach, and ``GET /api/2.1/unity-catalog/tables/<c.s.t>`` for columns,
  and for views their ``view_definition`` (the consumer's ``sql``, bound at head).
- System tables (``options.warehouse_id``): rows of ``system.access.table_lineage`` and
  ``system.access.column_lineage`` from the last ``options.days`` (default 90) through the
  SQL Statement Execution API (``POST /api/2.0/sql/statements``, polled while pending,
  result chunks followed), one statement per hop.

Names: Unity Catalog names have three parts; a touched ``schema.table`` gets the catalog
``options.catalog`` (or ``namespace``). Back to canonical names with ``aliases`` keyed by
the catalog (``{main: ""}`` drops it), else the merge matches them by suffix.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from impact_check.errors import SourceError
from impact_check.identity import canonical_in
from impact_check.model import column_id
from impact_check.sources.base import GraphFragment, SourceContext, as_object, as_text
from impact_check.sources.collect import Collector, skipped, walk_hops, with_prefix
from impact_check.sources.faults import Faults
from impact_check.sources.http import HttpClient, client_for

if TYPE_CHECKING:
    from impact_check.config import LineageSource

ORIGIN = "unity_catalog"
NO_CATALOG = "touched datasets without a catalog (set options.catalog)"
BEYOND_DEPTH = "downstream hops beyond depth not followed"
COLUMNS_NOT_WALKED = "columns not walked (options.max_columns)"

# ``<entity>Infos`` of the REST answer and ``entity_type`` of the system tables -> node kind
ENTITY_KINDS = {
    "notebook": "notebook",
    "job": "job",
    "pipeline": "job",
    "dashboard": "dashboard",
    "dashboardv3": "dashboard",
    "dashboard_v3": "dashboard",
    "query": "query",
    "alert": "application",
    "servingendpoint": "ml_model",
    "serving_endpoint": "ml_model",
    "genie_space": "application",
    "geniespace": "application",
    "function": "application",
    "dbsql_query": "query",
    "dbsql_dashboard": "dashboard",
}


@dataclass
class Lineage:
    """What the answers said, in Unity Catalog names (``catalog.schema.table``)."""

    tables: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> tableInfo
    table_edges: set[tuple[str, str]] = field(default_factory=set)  # (source, target)
    readers: set[tuple[str, str]] = field(default_factory=set)  # (table, entity key)
    writers: set[tuple[str, str]] = field(default_factory=set)  # (entity key, table)
    column_edges: set[tuple[str, str, str, str]] = field(default_factory=set)
    column_readers: set[tuple[str, str, str]] = field(default_factory=set)  # (table, col, entity)
    entities: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    columns: dict[str, dict[str, str | None]] = field(default_factory=dict)
    views: dict[str, str] = field(default_factory=dict)  # view -> view_definition


def full_name(info: dict[str, Any]) -> str | None:
    """``catalog.schema.table`` of a ``tableInfo`` or a column-lineage item."""
    parts = [
        as_text(info.get("catalog_name")),
        as_text(info.get("schema_name")),
        as_text(info.get("table_name")) or as_text(info.get("name")),
    ]
    return ".".join(p for p in parts if p) if all(parts) else None


def entity_key(kind: str, info: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The node key (``notebook/<workspace>/<id>``) and attributes of an entity."""
    ident = next(
        (
            str(v)
            for k, v in info.items()
            if k.endswith(("_id", "_name")) and k != "workspace_id" and v not in (None, "")
        ),
        None,
    )
    if ident is None:
        return None
    workspace = info.get("workspace_id")
    key = f"{kind}/{workspace}/{ident}" if workspace is not None else f"{kind}/{ident}"
    return key, {k: v for k, v in info.items() if v is not None}


def add_table_lineage(lineage: Lineage, table: str, answer: Any) -> list[str]:
    """One ``table-lineage`` answer for ``table``; returns the downstream tables."""
    found = []
    for item in as_object(answer).get("downstreams") or []:
        item = as_object(item)
        info = as_object(item.get("tableInfo"))
        target = full_name(info) if info else None
        entities = []
        for key, value in item.items():
            if not key.endswith("Infos") or not isinstance(value, list):
                continue
            kind = key[: -len("Infos")].lower()
            for entry in value:
                parsed = entity_key(kind, as_object(entry))
                if parsed is not None:
                    lineage.entities.setdefault(parsed[0], (kind, parsed[1]))
                    entities.append(parsed[0])
        if target is None:  # only read here
            lineage.readers |= {(table, e) for e in entities}
            continue
        lineage.tables.setdefault(target, info)
        found.append(target)
        if entities:
            lineage.readers |= {(table, e) for e in entities}
            lineage.writers |= {(e, target) for e in entities}
        else:
            lineage.table_edges.add((table, target))
    return found


def add_column_lineage(
    lineage: Lineage, table: str, column: str, answer: Any
) -> list[tuple[str, str]]:
    """One ``column-lineage`` answer; returns the downstream (table, column) pairs."""
    found = []
    for item in as_object(answer).get("downstream_cols") or []:
        item = as_object(item)
        target, name = full_name(item), as_text(item.get("name"))
        if target and name:
            lineage.column_edges.add((table, column, target, name))
            lineage.tables.setdefault(target, {"table_type": item.get("table_type")})
            found.append((target, name))
    return found


def add_table_info(lineage: Lineage, table: str, answer: Any) -> None:
    """Columns, table type and view definition of ``GET /api/2.1/unity-catalog/tables``."""
    data = as_object(answer)
    columns: dict[str, str | None] = {}
    for col in data.get("columns") or []:
        col = as_object(col)
        if as_text(col.get("name")):
            columns[col["name"]] = as_text(col.get("type_text")) or as_text(col.get("type_name"))
    lineage.columns[table] = columns
    info = lineage.tables.setdefault(table, {})
    if data.get("table_type"):
        info["table_type"] = data["table_type"]
    definition = as_text(data.get("view_definition"))
    if definition:
        lineage.views[table] = definition


def add_system_rows(lineage: Lineage, rows: list[dict[str, Any]], columns: bool) -> list[str]:
    """Rows of ``system.access.table_lineage`` (or ``column_lineage``); returns targets."""
    found = []
    for row in rows:
        source, target = (
            as_text(row.get("source_table_full_name")),
            as_text(row.get("target_table_full_name")),
        )
        if source is None:
            continue
        entity = None
        kind = (as_text(row.get("entity_type")) or "").lower()
        if kind and row.get("entity_id") not in (None, ""):
            ident = {"workspace_id": row.get("workspace_id"), "entity_id": row["entity_id"]}
            parsed = entity_key(kind, ident)
            if parsed is not None:
                entity = parsed[0]
                lineage.entities.setdefault(entity, (kind, parsed[1]))
        src_col, dst_col = (
            as_text(row.get("source_column_name")),
            as_text(row.get("target_column_name")),
        )
        if target is not None:
            lineage.tables.setdefault(target, {"table_type": row.get("target_type")})
            found.append(target)
        if columns and src_col:
            if target and dst_col:
                lineage.column_edges.add((source, src_col, target, dst_col))
            elif entity:
                lineage.column_readers.add((source, src_col, entity))
            continue
        if entity:
            lineage.readers.add((source, entity))
            if target:
                lineage.writers.add((entity, target))
        elif target:
            lineage.table_edges.add((source, target))
    return found


def build(
    lineage: Lineage, starts: list[str], aliases: dict[str, str], host: str, fragment: GraphFragment
) -> GraphFragment:
    """The fragment of what was read (names mapped onto canonical ones)."""
    out = Collector(fragment, ORIGIN)

    def rel(name: str) -> str:
        return canonical_in(name, (name.split(".", 1)[0], "databricks", ORIGIN), aliases)

    for name in sorted(set(starts) | set(lineage.tables)):
        info = lineage.tables.get(name, {})
        kind = "view" if str(info.get("table_type", "")).upper() == "VIEW" else "table"
        out.node(
            rel(name),
            kind,
            name=name,
            url=f"{host}/explore/data/{name.replace('.', '/')}",
            columns=lineage.columns.get(name),
            attrs={"full_name": name},
            sql=lineage.views.get(name),
            dialect="databricks" if name in lineage.views else None,
        )
    for key, (kind, attrs) in sorted(lineage.entities.items()):
        out.node(f"{ORIGIN}:{key}", ENTITY_KINDS.get(kind, "application"), name=key, attrs=attrs)
    for source, target in lineage.table_edges:
        out.edge(rel(source), rel(target), "reads")
    for table, entity in lineage.readers:
        out.edge(rel(table), f"{ORIGIN}:{entity}", "reads")
    for entity, table in lineage.writers:
        out.edge(f"{ORIGIN}:{entity}", rel(table), "writes")
    for table, col, entity in lineage.column_readers:
        out.edge(column_id(rel(table), col), f"{ORIGIN}:{entity}", "column")
    for source, src_col, target, dst_col in lineage.column_edges:
        src = column_id(rel(source), src_col)
        out.edge(src, column_id(rel(target), dst_col), "projection")
        for entity, written in lineage.writers:
            if written == target and (source, entity) in lineage.readers:
                out.edge(src, f"{ORIGIN}:{entity}", "column")
    return out.finish()


# ---------------------------------------------------------------------------- fetching


def _starts(spec: LineageSource, ctx: SourceContext, fragment: GraphFragment) -> list[str]:
    prefix = str(spec.options.get("catalog") or spec.namespace or "") or None
    names = []
    for touched in sorted(ctx.touched):
        name = with_prefix(touched, prefix, 3)
        if name is None:
            fragment.count(NO_CATALOG)
        else:
            names.append(name)
    return names


def fetch(spec: LineageSource, ctx: SourceContext) -> GraphFragment:
    """Lineage downstream of ``ctx.touched`` from the workspace at ``spec.location``."""
    fragment = GraphFragment(spec.name or f"unity_catalog:{spec.location}", "unity_catalog")
    if not ctx.touched:
        return skipped(fragment)
    starts = _starts(spec, ctx, fragment)
    aliases = {**ctx.aliases, **spec.aliases}
    host = spec.location.rstrip("/")
    faults = Faults()
    lineage = Lineage()
    with client_for(spec, ctx, base_url=host) as client:
        if spec.options.get("warehouse_id"):
            _system_tables(client, spec, starts, lineage, faults, fragment)
        else:
            _rest(client, spec, starts, lineage, faults, fragment)
    build(lineage, starts, aliases, host, fragment)
    return faults.finish(fragment, client)


def _rest(
    client: HttpClient,
    spec: LineageSource,
    starts: list[str],
    lineage: Lineage,
    faults: Faults,
    fragment: GraphFragment,
) -> None:
    def tables(name: str) -> Any:
        params = {"table_name": name, "include_entity_lineage": "true"}
        return client.get_json("api/2.0/lineage-tracking/table-lineage", params)

    def info(name: str) -> Any:
        return client.get_json(f"api/2.1/unity-catalog/tables/{quote(name, safe='')}")

    def hop(frontier: list[str]) -> list[str]:
        answers = client.map(lambda t: faults.attempt(lambda: tables(t)), frontier)
        following: list[str] = []
        for table, answer in zip(frontier, answers):
            if answer is not None:
                following += add_table_lineage(lineage, table, answer)
        return following

    seen = walk_hops(starts, spec.depth, hop, fragment, BEYOND_DEPTH)
    described = sorted(
        set(starts) | {t for t in lineage.tables if t in seen or _is_view(lineage, t)}
    )
    for table, answer in zip(
        described, client.map(lambda t: faults.attempt(lambda: info(t)), described)
    ):
        if answer is not None:
            add_table_info(lineage, table, answer)
    _columns(client, spec, starts, lineage, faults, fragment)


def _is_view(lineage: Lineage, table: str) -> bool:
    return str(lineage.tables.get(table, {}).get("table_type", "")).upper() == "VIEW"


def _columns(
    client: HttpClient,
    spec: LineageSource,
    starts: list[str],
    lineage: Lineage,
    faults: Faults,
    fragment: GraphFragment,
) -> None:
    if not spec.options.get("column_lineage", True):
        return
    limit = int(spec.options.get("max_columns", 100))
    frontier: list[tuple[str, str]] = []
    for table in starts:
        names = sorted(lineage.columns.get(table, {}))
        if len(names) > limit:
            fragment.count(COLUMNS_NOT_WALKED, len(names) - limit)
        frontier += [(table, c) for c in names[:limit]]

    def ask(pair: tuple[str, str]) -> Any:
        params = {"table_name": pair[0], "column_name": pair[1]}
        return client.get_json("api/2.0/lineage-tracking/column-lineage", params)

    def hop(frontier: list[tuple[str, str]]) -> list[tuple[str, str]]:
        answers = client.map(lambda p: faults.attempt(lambda: ask(p)), frontier)
        following: list[tuple[str, str]] = []
        for pair, answer in zip(frontier, answers):
            if answer is not None:
                following += add_column_lineage(lineage, pair[0], pair[1], answer)
        return following

    walk_hops(frontier, spec.depth, hop, fragment, BEYOND_DEPTH)


TABLE_SQL = (
    "SELECT source_table_full_name, target_table_full_name, target_type, workspace_id, "
    "entity_type, entity_id, MAX(event_time) AS last_seen FROM system.access.table_lineage "
    "WHERE source_table_full_name IN ({names}) AND event_time >= "
    "current_timestamp() - make_interval(0, 0, 0, :days) "
    "GROUP BY source_table_full_name, target_table_full_name, target_type, workspace_id, "
    "entity_type, entity_id"
)
COLUMN_SQL = (
    "SELECT source_table_full_name, source_column_name, target_table_full_name, "
    "target_column_name, target_type, workspace_id, entity_type, entity_id, "
    "MAX(event_time) AS last_seen "
    "FROM system.access.column_lineage "
    "WHERE source_table_full_name IN ({names}) AND event_time >= "
    "current_timestamp() - make_interval(0, 0, 0, :days) "
    "GROUP BY source_table_full_name, source_column_name, target_table_full_name, "
    "target_column_name, target_type, workspace_id, entity_type, entity_id"
)


def statement(template: str, tables: list[str], days: int) -> dict[str, Any]:
    """The Statement Execution request body: names and days as parameters, never spliced."""
    marks = ", ".join(f":t{i}" for i in range(len(tables)))
    params = [{"name": f"t{i}", "value": t, "type": "STRING"} for i, t in enumerate(tables)]
    params.append({"name": "days", "value": str(days), "type": "INT"})
    return {"statement": template.format(names=marks), "parameters": params}


def _system_tables(
    client: HttpClient,
    spec: LineageSource,
    starts: list[str],
    lineage: Lineage,
    faults: Faults,
    fragment: GraphFragment,
) -> None:
    days = int(spec.options.get("days", 90))
    run = _Statements(client, str(spec.options["warehouse_id"]), float(spec.timeout or 30))

    def hop(frontier: list[str]) -> list[str]:
        table_body = statement(TABLE_SQL, frontier, days)
        column_body = statement(COLUMN_SQL, frontier, days)
        rows = faults.attempt(lambda: run.rows(table_body))
        following = add_system_rows(lineage, rows or [], columns=False)
        column_rows = faults.attempt(lambda: run.rows(column_body))
        add_system_rows(lineage, column_rows or [], columns=True)
        return following

    walk_hops(starts, spec.depth, hop, fragment, BEYOND_DEPTH)


@dataclass
class _Statements:
    """Runs a statement on a SQL warehouse and collects every result chunk as dicts."""

    client: HttpClient
    warehouse_id: str
    timeout: float

    def rows(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        key = [body, self.warehouse_id]
        return self.client.remembered("api/2.0/sql/statements", key, lambda: self._run(body))

    def _run(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        request = {
            **body,
            "warehouse_id": self.warehouse_id,
            "wait_timeout": "30s",
            "on_wait_timeout": "CONTINUE",
            "format": "JSON_ARRAY",
            "disposition": "INLINE",
        }
        path = "api/2.0/sql/statements"
        answer = as_object(self.client.post_json(path, request, cache=False))
        deadline = time.monotonic() + self.timeout
        while _state(answer) in ("PENDING", "RUNNING"):
            if time.monotonic() > deadline:
                raise SourceError(
                    f"{self.client.url(path)}: statement still running after {self.timeout:.0f} s"
                )
            time.sleep(0.2)
            ident = as_text(answer.get("statement_id")) or ""
            answer = as_object(self.client.get_json(f"{path}/{quote(ident, safe='')}"))
        if _state(answer) != "SUCCEEDED":
            error = as_object(as_object(answer.get("status")).get("error")).get("message")
            raise SourceError(
                f"{self.client.url(path)}: statement {_state(answer)}: {error or 'no message'}"
            )
        names = [
            str(as_object(c).get("name"))
            for c in as_object(as_object(answer.get("manifest")).get("schema")).get("columns") or []
        ]
        result = as_object(answer.get("result"))
        rows: list[dict[str, Any]] = []
        for _chunk in range(10_000):
            rows += [
                dict(zip(names, r)) for r in result.get("data_array") or [] if isinstance(r, list)
            ]
            link = as_text(result.get("next_chunk_internal_link"))
            if link is None:
                return rows
            result = as_object(self.client.get_json(link.lstrip("/")))
        return rows


def _state(answer: dict[str, Any]) -> str:
    return str(as_object(answer.get("status")).get("state") or "")
